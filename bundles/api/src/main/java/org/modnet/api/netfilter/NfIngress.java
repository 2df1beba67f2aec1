package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * The netdev family's ingress hook ({@code nf_hook_ingress}), offered by the core: one function per
 * device, run on each frame the device receives after the taps and tc's ingress classifier, before the
 * protocol handlers (so before IPv4), with the skb's data at the network header. With none attached
 * the core pays one null check. @since 1.5
 */
public interface NfIngress {
    /** What runs on a device's ingress: every netdev base chain bound to it, by priority. */
    @FunctionalInterface
    interface Hook {
        /**
         * ACCEPT: the frame goes on to the protocol handlers; DROP: the core frees it (the hook counts
         * it in its rules); STOLEN: the hook took it. No lock, no allocation.
         */
        Verdict ingress(SkBuff skb, NetDevice dev);
    }

    /** Puts {@code hook} on {@code dev}'s ingress (null takes it off) and returns the one it replaced. */
    Hook attachIngress(NetDevice dev, Hook hook);

    /** The hook on the device's ingress now, or null. */
    Hook ingressHook(NetDevice dev);
}
