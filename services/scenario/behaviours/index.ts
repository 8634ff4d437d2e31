// Answering behaviours (docs/product.md §2): presets generating a number's scenario, and the site's services catalog.
export { generateScenario, parseBehaviourSpec, BEHAVIOUR_TYPES, FORWARD_THEN_SMART_RING, type BehaviourSpec, type BehaviourType, type SmartAnsweringSpec, type CustomSmartAnsweringSpec, type ForwardOnlySpec, type ForwardThenSmartSpec, type CustomOption, type CustomOptionAction } from './presets.js';
export { ServiceCatalogRepository, checkCatalog, MAX_MENU_ENTRIES, type CatalogCategory, type CatalogService } from './service-catalog.js';
