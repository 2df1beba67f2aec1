package org.modnet.api.net;

import org.modnet.api.skb.SkBuff;

/**
 * A program attached at a device's receive hook ({@code ip link set dev DEV xdp ...}): it sees each
 * received frame before the stack does — after the driver, before {@code eth_type_trans} — with its
 * data at the Ethernet header, linear and writable. It may move the frame's start and end (the skb's
 * data and tail). It returns an action: {@link #XDP_PASS} to the stack, {@link #XDP_DROP},
 * {@link #XDP_TX} back out of the same device, {@link #XDP_ABORTED} (a program error, dropped), or
 * {@link #XDP_REDIRECT} — then the hook has taken the frame (queued it on another device) and owns it.
 * The core counts each action per device ({@code ethtool -S}: {@code xdp_drop}, {@code xdp_tx}...).
 */
public interface XdpHook {
    int XDP_ABORTED = 0;
    int XDP_DROP = 1;
    int XDP_PASS = 2;
    int XDP_TX = 3;
    int XDP_REDIRECT = 4;

    int run(SkBuff skb, NetDevice dev, int rxQueue);

    /** What {@code ip link show} prints after "prog/xdp": {@code id 3 name xdp_drop_icmp}. */
    String describe();

    /** The hook was detached or replaced: the program is unloaded unless something else holds it. */
    default void close() {
    }

    /** Generic XDP ("xdpgeneric") or the driver's own ("xdpdrv"); modnet's drivers all run it in the receive poll. */
    default String mode() {
        return "xdpgeneric";
    }
}
