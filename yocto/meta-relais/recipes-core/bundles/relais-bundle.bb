SUMMARY = "RAUC update bundle of the Relais image (the same as scripts/bundle builds from a rootfs)"
LICENSE = "CLOSED"

inherit bundle

RAUC_BUNDLE_COMPATIBLE ?= "relais-rpi4"
RAUC_BUNDLE_VERSION = "${DISTRO_VERSION}"
RAUC_BUNDLE_FORMAT = "verity"
RAUC_BUNDLE_SLOTS = "rootfs"
RAUC_SLOT_rootfs = "relais-image"
RAUC_SLOT_rootfs[fstype] = "ext4"

# Development keys (DEVELOPMENT ONLY); a production build points these at the production key or a PKCS#11 URI.
RAUC_KEY_FILE ?= "${LAYERDIR_relais}/../../firmware/keys/dev/dev.key.pem"
RAUC_CERT_FILE ?= "${LAYERDIR_relais}/../../firmware/keys/dev/dev.cert.pem"
