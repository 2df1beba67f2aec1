package org.modnet.api.net;

import java.util.ArrayList;
import java.util.List;

/** Interface flags, {@code IFF_*} of {@code include/uapi/linux/if.h}, with the values Linux uses. */
public final class IfFlags {
    public static final int UP = 0x1;
    public static final int BROADCAST = 0x2;
    public static final int DEBUG = 0x4;
    public static final int LOOPBACK = 0x8;
    public static final int POINTOPOINT = 0x10;
    public static final int RUNNING = 0x40;
    public static final int NOARP = 0x80;
    public static final int PROMISC = 0x100;
    public static final int ALLMULTI = 0x200;
    public static final int MULTICAST = 0x1000;
    /** Carrier is up: {@code IFF_LOWER_UP}. */
    public static final int LOWER_UP = 0x10000;

    private IfFlags() {
    }

    /** The flag names in the order {@code ip link} prints them: {@code LOOPBACK,UP,LOWER_UP}. */
    public static List<String> names(int flags) {
        List<String> names = new ArrayList<>();
        if ((flags & UP) != 0 && (flags & RUNNING) == 0) {
            names.add("NO-CARRIER"); // iproute2 prints it first: up, but no carrier
        }
        if ((flags & LOOPBACK) != 0) {
            names.add("LOOPBACK");
        }
        if ((flags & BROADCAST) != 0) {
            names.add("BROADCAST");
        }
        if ((flags & POINTOPOINT) != 0) {
            names.add("POINTOPOINT");
        }
        if ((flags & MULTICAST) != 0) {
            names.add("MULTICAST");
        }
        if ((flags & NOARP) != 0) {
            names.add("NOARP");
        }
        if ((flags & ALLMULTI) != 0) {
            names.add("ALLMULTI");
        }
        if ((flags & PROMISC) != 0) {
            names.add("PROMISC");
        }
        if ((flags & UP) != 0) {
            names.add("UP");
        }
        if ((flags & LOWER_UP) != 0) {
            names.add("LOWER_UP");
        }
        return names;
    }
}
