package org.modnet.api.inet;

/**
 * A routing policy rule as {@code ip rule} adds, lists and deletes it (Linux's {@code struct fib_rule}
 * and {@code fib4_rule}). Addresses are ints in network order. In a rule given to delete, a field
 * left at its "not given" value selects nothing, as a netlink request without the attribute. @since 1.8
 *
 * @param priority          {@code pref}: rules are tried lowest first; -1 not given (add: one below the second rule's)
 * @param not               {@code not}: the rule applies where its selectors do not match
 * @param src               {@code from} address as given (the mask applies when matching)
 * @param srcLen            {@code from} prefix length; 0 is {@code from all}
 * @param dst               {@code to} address
 * @param dstLen            {@code to} prefix length; 0 is any destination
 * @param iif               {@code iif} device name (a rule may name a device that is not there), null for any
 * @param oif               {@code oif} device name, null for any
 * @param fwmark            {@code fwmark}: -1 not given
 * @param fwmask            the mark's mask, 0xffffffff when only the mark is given; -1 not given
 * @param tos               {@code tos} (DSCP bits), 0 for any
 * @param ipproto           {@code ipproto}, 0 for any
 * @param sportLo           {@code sport} range start, 0 for any
 * @param sportHi           {@code sport} range end
 * @param dportLo           {@code dport} range start, 0 for any
 * @param dportHi           {@code dport} range end
 * @param action            {@code table} (FR_ACT_TO_TBL), {@code goto}, {@code nop}, {@code blackhole},
 *                          {@code unreachable}, {@code prohibit}; null not given
 * @param table             the table looked up ({@code table|lookup}); -1 not given
 * @param gotoPriority      {@code goto}: the priority jumped to; -1 none
 * @param suppressPrefixlen {@code suppress_prefixlength}: a route this short or shorter is refused; -1 none
 */
public record FibRule(long priority, boolean not, int src, int srcLen, int dst, int dstLen, String iif, String oif, long fwmark,
        long fwmask, int tos, int ipproto, int sportLo, int sportHi, int dportLo, int dportHi, String action, long table,
        long gotoPriority, int suppressPrefixlen) {

    /** {@code RT_TABLE_LOCAL}, {@code RT_TABLE_MAIN}, {@code RT_TABLE_DEFAULT}: the three built-in tables. */
    public static final long LOCAL = 255;
    public static final long MAIN = 254;
    public static final long DEFAULT = 253;

    /** A rule that looks up {@code table} for every packet, at {@code priority}: what the three defaults are. */
    public static FibRule lookup(long priority, long table) {
        return new FibRule(priority, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "table", table, -1, -1);
    }

    /** The namespace's rules before any is added: local at 0, main at 32766, default at 32767. */
    public static java.util.List<FibRule> defaults() {
        return java.util.List.of(lookup(0, LOCAL), lookup(32766, MAIN), lookup(32767, DEFAULT));
    }
}
