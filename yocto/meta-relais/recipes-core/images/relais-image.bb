SUMMARY = "Relais appliance image: read-only A/B root with Relais and RAUC, writable /data (not built in CI; see README.md)"
LICENSE = "CLOSED"

inherit core-image

IMAGE_FEATURES += "read-only-rootfs ssh-server-dropbear"
IMAGE_INSTALL:append = " relais nodejs ffmpeg espeak-ng sox openssl rauc rauc-conf chrony u-boot-fw-utils"

# One SD card / eMMC: boot (vfat), rootfs A, rootfs B (RAUC slots rootfs.0 / rootfs.1, firmware/rauc/system.conf),
# and /data (database, sounds, recordings, RAUC status) that no update ever writes.
IMAGE_FSTYPES = "wic.bz2 wic.bmap ext4"
WKS_FILE = "relais-dual.wks"
WKS_FILES_DIR := "${THISDIR}/../../wic"
# The B slot starts empty: RAUC writes it on the first update.
IMAGE_ROOTFS_EXTRA_SPACE = "0"

# Where the data partition is mounted (fstab from base-files_%.bbappend).
RELAIS_DATA_DIR = "/data"
create_data_mountpoint() {
    install -d ${IMAGE_ROOTFS}${RELAIS_DATA_DIR}
}
ROOTFS_POSTPROCESS_COMMAND += "create_data_mountpoint;"
