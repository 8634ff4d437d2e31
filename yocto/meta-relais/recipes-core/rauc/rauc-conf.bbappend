# RAUC system.conf and keyring of the Relais image (firmware/rauc/system.conf; development CA from
# firmware/keys/dev: replace ca.cert.pem with the production CA for a production image).
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://system.conf file://ca.cert.pem"

RELAIS_COMPATIBLE ?= "relais-rpi4"
RELAIS_COMPATIBLE:raspberrypi-cm4 = "relais-cm4"

do_install:append() {
    sed -i "s/^compatible=.*/compatible=${RELAIS_COMPATIBLE}/" ${D}${sysconfdir}/rauc/system.conf
}
