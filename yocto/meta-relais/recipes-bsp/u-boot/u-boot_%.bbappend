# RAUC A/B boot script (files/boot.cmd.in) instead of meta-raspberrypi's plain one.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
SRC_URI += "file://boot.cmd.in"
