SUMMARY = "Relais: on-premise PBX service (SIP, RTP media, queues, scenarios, web console)"
DESCRIPTION = "One Node.js process: SIP registrar and B2BUA, media engine, queue engine, scenario \
interpreter, LAN console. State lives in /data/relais."
LICENSE = "CLOSED"

# Not built in CI (see ../../README.md). SRCREV pins the commit a release is built from.
SRC_URI = "git://git.example.invalid/relais.git;protocol=https;branch=main"
SRCREV = "${AUTOREV}"
PV = "0.1.0+git${SRCPV}"
S = "${WORKDIR}/git"

inherit systemd useradd

DEPENDS = "nodejs-native python3-native"
RDEPENDS:${PN} = "nodejs ffmpeg espeak-ng sox openssl-bin rauc systemd polkit"

USERADD_PACKAGES = "${PN}"
USERADD_PARAM:${PN} = "--system --home-dir /data/relais --no-create-home --shell /bin/false --user-group relais"
GROUPADD_PARAM:${PN} = "--system gpio"

SYSTEMD_SERVICE:${PN} = "relais.service"
SYSTEMD_AUTO_ENABLE = "enable"

# npm ci needs the registry; better-sqlite3 and the media fast path are compiled for the target by node-gyp.
do_compile[network] = "1"
do_compile() {
    cd ${S}
    export npm_config_arch=${TARGET_ARCH}
    export npm_config_target_arch=${TARGET_ARCH}
    export npm_config_nodedir=${STAGING_DIR_TARGET}${prefix}
    npm ci --no-audit --no-fund
    npx tsc -p tsconfig.json
    # The relay's native fast path (docs/media.md), cross-compiled like better-sqlite3.
    (cd services/media/native && node-gyp rebuild --arch=${TARGET_ARCH} --nodedir=${STAGING_DIR_TARGET}${prefix})
    install -d dist/native && install -m 0755 services/media/native/build/Release/rtp_forward.node dist/native/
    node dist/scripts/build-prompts.js dist/prompts
    npm prune --omit=dev
}

do_install() {
    install -d ${D}/usr/lib/relais ${D}${bindir} ${D}${sysconfdir}/relais ${D}${systemd_system_unitdir}
    # -L: node_modules/usocket is a link to the stub in scripts/npm-stubs (package.json overrides).
    cp -RL --no-preserve=ownership ${S}/dist ${S}/node_modules ${S}/package.json ${D}/usr/lib/relais/
    install -d ${D}/usr/lib/relais/services/site ${D}/usr/lib/relais/docs
    install -m 0644 ${S}/services/site/default-site.yaml ${D}/usr/lib/relais/services/site/
    install -m 0644 ${S}/docs/*.md ${D}/usr/lib/relais/docs/
    # The command reads the same settings as the service (data dir, domain), so `relais user list` just works.
    printf '#!/bin/sh\nset -a\n[ -r /etc/relais/relais.env ] && . /etc/relais/relais.env\n[ -r /data/relais/relais.env ] && . /data/relais/relais.env\nset +a\nexport RELAIS_DATA_DIR="${RELAIS_DATA_DIR:-/data/relais}"\nexec /usr/bin/node /usr/lib/relais/dist/services/cli.js "$@"\n' > ${D}${bindir}/relais
    chmod 0755 ${D}${bindir}/relais
    install -m 0644 ${S}/firmware/systemd/relais.service ${D}${systemd_system_unitdir}/
    install -m 0640 ${S}/firmware/systemd/relais.env ${D}${sysconfdir}/relais/relais.env
    # The update agent talks to RAUC on the system bus and reboots the box: allowed for user relais only.
    install -d ${D}${datadir}/dbus-1/system.d ${D}${datadir}/polkit-1/rules.d
    install -m 0644 ${S}/firmware/dbus/relais-rauc.conf ${D}${datadir}/dbus-1/system.d/
    install -m 0644 ${S}/firmware/polkit/50-relais-reboot.rules ${D}${datadir}/polkit-1/rules.d/
}

FILES:${PN} = "/usr/lib/relais ${bindir}/relais ${sysconfdir}/relais ${systemd_system_unitdir}/relais.service ${datadir}/dbus-1/system.d ${datadir}/polkit-1/rules.d"
INSANE_SKIP:${PN} = "already-stripped file-rdeps"
