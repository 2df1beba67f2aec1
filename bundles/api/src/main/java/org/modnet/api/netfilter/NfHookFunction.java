package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * A netfilter hook ({@code struct nf_hook_ops}), registered as a service with {@value #HOOK} (an
 * {@link NfHook} name) and {@value #PRIORITY} (an Integer, lower runs first: conntrack -200, NAT
 * -100, filter 0, as Linux orders them). The skb's data is at its IPv4 header.
 */
@FunctionalInterface
public interface NfHookFunction {
    String HOOK = "modnet.nf.hook";
    String PRIORITY = "modnet.nf.priority";

    /** {@code in} is null on output hooks, {@code out} null on input hooks. */
    Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out);
}
