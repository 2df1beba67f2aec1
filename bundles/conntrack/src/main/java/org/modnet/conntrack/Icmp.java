package org.modnet.conntrack;

/** ICMP types as conntrack sees them (nf_conntrack_proto_icmp.c). */
final class Icmp {
    private Icmp() {
    }

    /** Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
    static boolean isError(int type) {
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    }

    /** {@code invmap}: a query's reply type (echo, timestamp, info, address mask), or -1. */
    static int replyType(int type) {
        return switch (type) {
            case 8 -> 0;
            case 13 -> 14;
            case 15 -> 16;
            case 17 -> 18;
            default -> -1;
        };
    }

    /** A query or its reply: the types whose id conntrack tracks (and NAT may change). */
    static boolean isQuery(int type) {
        return type == 0 || type == 8 || type >= 13 && type <= 18;
    }
}
