package org.modnet.api.netfilter;

import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * ip_set's core ({@code net/netfilter/ipset/ip_set_core.c}) as x_tables' {@code -m set} and
 * {@code SET} target reach it: the sets of a namespace by name, and how many rules refer to each, which
 * {@code ipset list} prints as {@code References} and which keeps {@code ipset destroy} from removing a
 * set in use. A service of the ipset bundle.
 */
public interface IpSets {
    /** The set named {@code name} in {@code ns} (its handle stays the name's across {@code ipset swap}), or null. */
    IpSet set(NetNamespace ns, String name);

    /**
     * What {@code owner} (such as {@code "iptables/filter"}) refers to now: for each set name, the number
     * of its rules that name it ({@code ip_set_nfnl_get_byindex}/{@code ip_set_put_byindex} in sum). Replaces
     * the owner's previous counts.
     */
    void references(NetNamespace ns, String owner, Map<String, Integer> counts);
}
