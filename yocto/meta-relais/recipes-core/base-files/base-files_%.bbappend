# /data: the partition that survives A/B updates (database, sounds, recordings, RAUC's status file).
do_install:append() {
    printf '/dev/mmcblk0p4\t/data\text4\tdefaults,noatime\t0\t2\n' >> ${D}${sysconfdir}/fstab
}
