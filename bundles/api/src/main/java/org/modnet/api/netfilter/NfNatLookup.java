package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * A NAT table's chain for one hook (iptable_nat's ops under {@code nf_nat_inet_fn}), registered as a
 * service with {@link NfHookFunction#HOOK}. The NAT core calls it for the first packet of a connection
 * only; a target that binds the connection calls {@code nat}. A connection no lookup binds keeps its
 * addresses (the null binding).
 */
@FunctionalInterface
public interface NfNatLookup {
    Verdict lookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat);
}
