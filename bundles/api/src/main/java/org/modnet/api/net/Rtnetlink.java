package org.modnet.api.net;

/**
 * rtnetlink's multicast groups and message types ({@code include/uapi/linux/rtnetlink.h}): what a
 * namespace tells its listeners ({@link NetNamespace#rtnlListen}) when links, addresses, routes and
 * neighbours change, as {@code ip monitor} hears them on Linux.
 */
public final class Rtnetlink {
    public static final int RTM_NEWLINK = 16;
    public static final int RTM_DELLINK = 17;
    public static final int RTM_NEWADDR = 20;
    public static final int RTM_DELADDR = 21;
    public static final int RTM_NEWROUTE = 24;
    public static final int RTM_DELROUTE = 25;
    public static final int RTM_NEWNEIGH = 28;
    public static final int RTM_DELNEIGH = 29;

    /** {@code enum rtnetlink_groups}: a listener joins groups, each a bit {@code 1 << (group - 1)} of its mask. */
    public static final int RTNLGRP_LINK = 1;
    public static final int RTNLGRP_NEIGH = 3;
    public static final int RTNLGRP_IPV4_IFADDR = 5;
    public static final int RTNLGRP_IPV4_ROUTE = 7;

    /** Every group above. */
    public static final int ALL_GROUPS = mask(RTNLGRP_LINK) | mask(RTNLGRP_NEIGH) | mask(RTNLGRP_IPV4_IFADDR)
            | mask(RTNLGRP_IPV4_ROUTE);

    private Rtnetlink() {
    }

    /** The bit of a group in a listener's mask (the legacy {@code RTMGRP_*} values). */
    public static int mask(int group) {
        return 1 << (group - 1);
    }

    /** The group a message type is sent to, or 0 for a type this class does not name. */
    public static int groupOf(int type) {
        return switch (type) {
            case RTM_NEWLINK, RTM_DELLINK -> RTNLGRP_LINK;
            case RTM_NEWADDR, RTM_DELADDR -> RTNLGRP_IPV4_IFADDR;
            case RTM_NEWROUTE, RTM_DELROUTE -> RTNLGRP_IPV4_ROUTE;
            case RTM_NEWNEIGH, RTM_DELNEIGH -> RTNLGRP_NEIGH;
            default -> 0;
        };
    }

    /** Whether the type is one of the {@code RTM_DEL*} ({@code ip monitor}'s "Deleted " prefix). */
    public static boolean isDelete(int type) {
        return type == RTM_DELLINK || type == RTM_DELADDR || type == RTM_DELROUTE || type == RTM_DELNEIGH;
    }
}
