package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * A netfilter hook ({@code struct nf_hook_ops}), registered as a service with {@value #HOOK} (an
 * {@link NfHook} name) and {@value #PRIORITY} (an Integer, lower runs first: conntrack -200, NAT
 * -100, filter 0, as Linux orders them). The skb's data is at its IPv4 header.
 *
 * <p>A module whose functions share per-packet state between hooks (conntrack's entry attached at
 * PRE_ROUTING and read by NAT and confirm later) names them one set with {@value #SET} and says how
 * many it registers with {@value #SET_SIZE} (an Integer). When such a module is updated, the hooks
 * keep the old version's set until the new version has registered all of its set, then change to it
 * in one step: no packet meets one version's functions at one hook and the other's at the next.
 */
@FunctionalInterface
public interface NfHookFunction {
    String HOOK = "modnet.nf.hook";
    String PRIORITY = "modnet.nf.priority";
    /** The name of the set this function belongs to (a String); optional. @since 1.2 */
    String SET = "modnet.nf.set";
    /** How many functions the set has (an Integer); required with {@link #SET}. @since 1.2 */
    String SET_SIZE = "modnet.nf.set.size";

    /** {@code in} is null on output hooks, {@code out} null on input hooks. */
    Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out);
}
