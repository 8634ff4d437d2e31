SUMMARY = "Relais appliance image: read-only root with Relais, writable /data (not built in CI; see README.md)"
LICENSE = "CLOSED"

inherit core-image

IMAGE_FEATURES += "read-only-rootfs ssh-server-dropbear"
IMAGE_INSTALL:append = " relais nodejs ffmpeg espeak-ng sox openssl rauc chrony"

# /data holds /data/relais (database, sounds, recordings, voicemail) across A/B updates.
# The partition layout (wic) and RAUC slots come from firmware/ once they are wired in.
