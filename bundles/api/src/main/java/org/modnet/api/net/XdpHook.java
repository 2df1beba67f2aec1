package org.modnet.api.net;

import java.lang.foreign.MemorySegment;

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

    /**
     * Native XDP: the program on a frame still in the driver's own buffer, before any skb exists —
     * {@code len} bytes at {@code data} of {@code buffer}, whose bytes before {@code data} are headroom.
     * Returns {@link #frameResult} of the action and where the frame starts and how long it is now.
     * On {@link #XDP_REDIRECT} the hook has copied the frame to its target; the buffer stays the driver's.
     */
    default long runFrame(MemorySegment buffer, int data, int len, NetDevice dev, int rxQueue) {
        throw new UnsupportedOperationException("this XDP hook runs on skbs only (generic XDP)");
    }

    /** What {@link #runFrame} returns: the action, the frame's start and its length, in one long. */
    static long frameResult(int action, int data, int len) {
        return (action & 0xffL) | ((long) (data & 0xffffff) << 8) | ((long) len << 32);
    }

    static int frameAction(long result) {
        return (int) (result & 0xff);
    }

    static int frameData(long result) {
        return (int) ((result >>> 8) & 0xffffff);
    }

    static int frameLength(long result) {
        return (int) (result >>> 32);
    }

    /** What {@code ip link show} prints after "prog/xdp": {@code id 3 name xdp_drop_icmp}. */
    String describe();

    /** The hook was detached or replaced: the program is unloaded unless something else holds it. */
    default void close() {
    }

    /**
     * Generic XDP ("xdpgeneric"). Deprecated: the mode is the attachment's, not the program's — see
     * {@link NetDevice#xdpNative()}.
     */
    @Deprecated
    default String mode() {
        return "xdpgeneric";
    }
}
