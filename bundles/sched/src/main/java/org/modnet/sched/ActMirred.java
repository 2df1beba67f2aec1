package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * {@code mirred} ({@code net/sched/act_mirred.c}): sends the frame — redirect — or a clone of it —
 * mirror — out of another device ({@code egress}: {@code dev_queue_xmit}) or into it ({@code ingress}:
 * {@code netif_receive_skb}). A frame taken at ingress gets its Ethernet header back before it is sent;
 * one taken at egress loses it before it is received. A target that is down, a clone that cannot be
 * had or a loop deeper than {@code MIRRED_NEST_LIMIT} is an overlimit, and a redirected frame is shot
 * (the hook drops it and counts it, as {@code err_cant_do} leaves it to).
 */
final class ActMirred extends TcAction {
    /** {@code MIRRED_NEST_LIMIT}: how deep mirred may call itself (redirect to a device whose hook redirects ...). */
    static final int NEST_LIMIT = 4;
    private static final ThreadLocal<int[]> NEST = ThreadLocal.withInitial(() -> new int[1]);

    private final NetCore core;
    /** Where and how: swapped whole by {@code tc actions replace}, read once per frame. */
    private record Params(NetDevice target, boolean egress, boolean redirect, int verdict) {
    }

    private volatile Params params;

    ActMirred(int index, NetCore core, NetDevice target, boolean egress, boolean redirect, int verdict) {
        super(index);
        this.core = core;
        this.params = new Params(target, egress, redirect, verdict);
    }

    @Override
    void replaceWith(TcAction fresh) {
        params = ((ActMirred) fresh).params;
    }

    @Override
    String kind() {
        return "mirred";
    }

    @Override
    int act(SkBuff skb, boolean ingress) {
        Params p = params;
        stats.sent(skb.len());
        SkBuff out = p.redirect ? skb : skb.clone();
        if (out == null) {
            return failed(p);
        }
        int rc = forwardStatus(core, out, p.target, p.egress, !ingress);
        if (rc < 0) {
            if (!p.redirect) {
                out.free();
            }
            return failed(p);
        }
        if (rc != org.modnet.api.sched.Qdisc.NET_XMIT_SUCCESS) {
            stats.overlimit(); // tcf_mirred_forward: the target dropped it (its qdisc, a loop): an overlimit, the frame gone
        }
        return p.redirect ? TcHook.TC_ACT_STOLEN : p.verdict;
    }

    /** The frame could not be sent ({@code err_cant_do}): an overlimit; a redirected frame is shot, for the hook to drop and count. */
    private int failed(Params p) {
        stats.overlimit();
        return p.redirect ? TcHook.TC_ACT_SHOT : p.verdict;
    }

    /**
     * Sends {@code out} (whose data is at the Ethernet header when {@code atMac}, else at the network
     * header) out of {@code dev} ({@code egress}) or into it, within the nest limit; false (nothing sent,
     * {@code out} still the caller's) when the device is down, the loop too deep or the frame too short.
     * Shared with a tc program's {@code bpf_redirect} and {@code bpf_clone_redirect}.
     */
    static boolean forward(NetCore core, SkBuff out, NetDevice dev, boolean egress, boolean atMac) {
        return forwardStatus(core, out, dev, egress, atMac) >= 0;
    }

    /** As {@link #forward}: -1 when nothing was sent, else what {@code dev_queue_xmit} answered (receiving: success). */
    static int forwardStatus(NetCore core, SkBuff out, NetDevice dev, boolean egress, boolean atMac) {
        int[] nest = NEST.get();
        if (!dev.isUp() || nest[0] >= NEST_LIMIT) {
            return -1;
        }
        if (egress && !atMac) {
            out.push(Eth.ETH_HLEN);
        } else if (!egress) {
            if (atMac && Eth.typeTrans(out, dev) < 0) {
                return -1;
            }
            out.pktType(PktType.HOST);
        }
        out.dev(dev);
        nest[0]++;
        try {
            if (egress) {
                return core.devQueueXmitStatus(out);
            }
            core.netifReceiveSkb(out);
            return org.modnet.api.sched.Qdisc.NET_XMIT_SUCCESS;
        } finally {
            nest[0]--;
        }
    }

    @Override
    List<String> describe() {
        Params p = params;
        String how = (p.egress ? "Egress" : "Ingress") + (p.redirect ? " Redirect" : " Mirror");
        return List.of("mirred (" + how + " to device " + p.target.name() + ") " + verdictName(p.redirect ? TcHook.TC_ACT_STOLEN : p.verdict),
                " \tindex " + index + " " + refs());
    }
}
