package org.modnet.ipv4;

import static org.modnet.ipv4.Ipv4Mib.Counter.InAddrErrors;
import static org.modnet.ipv4.Ipv4Mib.Counter.InCsumErrors;
import static org.modnet.ipv4.Ipv4Mib.Counter.InDelivers;
import static org.modnet.ipv4.Ipv4Mib.Counter.InDiscards;
import static org.modnet.ipv4.Ipv4Mib.Counter.InHdrErrors;
import static org.modnet.ipv4.Ipv4Mib.Counter.InReceives;
import static org.modnet.ipv4.Ipv4Mib.Counter.InTruncatedPkts;
import static org.modnet.ipv4.Ipv4Mib.Counter.InUnknownProtos;
import static org.modnet.ipv4.Ipv4Mib.Counter.ReasmFails;
import static org.modnet.ipv4.Ipv4Mib.Counter.ReasmReqds;

import java.util.concurrent.atomic.AtomicReferenceArray;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.InetProtocol;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;

/**
 * {@code ip_rcv} and {@code ip_local_deliver} ({@code net/ipv4/ip_input.c}): validates what arrives,
 * counts every drop in the IP MIB under the name Linux uses, and hands local packets to the transport
 * protocol registered for their number. Nothing a packet contains makes it throw.
 */
final class Ipv4Input {
    /** Where a destination address leads, as the routing decision on input says. */
    enum Destination {
        LOCAL, BROADCAST, OTHER
    }

    /** The namespace's answer for a destination arriving on a device. */
    interface Routing {
        Destination classify(int daddr, NetDevice dev);

        /**
         * The source checks of the input route ({@code fib_validate_source}, martians): false to drop,
         * counted by the routing side. The IPv4 header is at {@code h}.
         */
        default boolean sourceValid(SkBuff skb, int h, NetDevice dev, Destination d) {
            return true;
        }
    }

    /** What becomes of a packet for another host: {@code ip_forward}. */
    interface Forwarder {
        void forward(SkBuff skb, NetDevice in);
    }

    private final Ipv4Mib mib;
    private final Routing routing;
    private final Forwarder forwarder;
    private java.util.function.ToIntFunction<NetDevice> forwarding = Unwired.NONE;
    /** ICMP's {@code icmp_send} for a packet no protocol takes (protocol unreachable). */
    private java.util.function.Consumer<SkBuff> protocolUnreachable = Unwired.NONE;

    void protocolUnreachable(java.util.function.Consumer<SkBuff> send) {
        this.protocolUnreachable = send;
    }

    /** ICMP's parameter problem for a bad option: the skb and the offset of the bad byte in the header. */
    private java.util.function.ObjIntConsumer<SkBuff> parameterProblem = Unwired.NONE;

    /**
     * A bare input's defaults (no forwarding, no ICMP): a class, not lambdas, since every namespace's input is made
     * inside a live update of IPv4 and a lambda's class would be spun there at its first run.
     */
    private static final class Unwired implements java.util.function.ToIntFunction<NetDevice>, java.util.function.Consumer<SkBuff>,
            java.util.function.ObjIntConsumer<SkBuff> {
        static final Unwired NONE = new Unwired();

        @Override
        public int applyAsInt(NetDevice dev) {
            return 0;
        }

        @Override
        public void accept(SkBuff skb) {
        }

        @Override
        public void accept(SkBuff skb, int pointer) {
        }
    }

    void parameterProblem(java.util.function.ObjIntConsumer<SkBuff> send) {
        this.parameterProblem = send;
    }

    private NfHooks hooks = new NfHooks();
    /** {@code ip_defrag}: the whole datagram, or null while it waits (or was dropped and counted). */
    private java.util.function.UnaryOperator<SkBuff> defrag; // null: noDefrag

    /** A bare input without reassembly: the fragment cannot be used. */
    private SkBuff noDefrag(SkBuff skb) {
        mib.inc(ReasmReqds);
        drop(skb, ReasmFails);
        return null;
    }

    void defrag(java.util.function.UnaryOperator<SkBuff> d) {
        this.defrag = d;
    }
    private org.modnet.api.net.NetNamespace ns;

    /** The netfilter hooks this input runs, and the namespace it runs them for. */
    void hooks(NfHooks h, org.modnet.api.net.NetNamespace namespace) {
        this.hooks = h;
        this.ns = namespace;
    }
    private final AtomicReferenceArray<InetProtocol> protocols = new AtomicReferenceArray<>(256);

    Ipv4Input(Ipv4Mib mib, Routing routing) {
        this(mib, routing, null);
    }

    Ipv4Input(Ipv4Mib mib, Routing routing, Forwarder forwarder) {
        this.mib = mib;
        this.routing = routing;
        this.forwarder = forwarder;
    }

    /** {@code IN_DEV_FORWARD}: the input device's {@code net.ipv4.conf.DEV.forwarding}, read per packet as the kernel reads it. */
    void forwarding(java.util.function.ToIntFunction<NetDevice> on) {
        this.forwarding = on;
    }

    /**
     * {@code inet_add_protocol}: false if the number is taken. A new version of a protocol whose packets
     * were held during its update gets them first, in arrival order, then the path is its; packets held
     * for other protocols keep waiting.
     */
    boolean addProtocol(int protocol, InetProtocol handler) {
        int p = protocol & 0xff;
        if (!heldFor[p]) {
            return protocols.compareAndSet(p, null, handler);
        }
        releaseTurn(p, handler, Integer.MAX_VALUE);
        return protocols.get(p) == handler;
    }

    /**
     * One turn of the release of what was held for {@code protocol} to its new version: up to {@code most} of its held
     * packets, in arrival order, under the queue's lock (an arrival meanwhile waits for it, then queues behind). True when
     * the hold has ended: nothing left for the protocol, the hold is off and the handler is installed, under the same lock,
     * so no packet passes one held before it. Between turns an arrival queues behind the rest; once those held at the
     * release's first turn are delivered, the next turn delivers everything left in one go, so a namespace whose arrivals
     * keep coming ends its release all the same.
     */
    boolean releaseTurn(int protocol, InetProtocol handler, int most) {
        int p = protocol & 0xff;
        synchronized (held) {
            if (!heldFor[p]) {
                protocols.compareAndSet(p, null, handler);
                return true;
            }
            if (!releasing[p]) {
                releasing[p] = true;
                int n = 0;
                for (int i = 0; i < heldCount; i++) {
                    n += heldProto[i] == p ? 1 : 0;
                }
                releaseLeft[p] = n;
                if (p == HOLD_WATCHED) {
                    holdMarks[3] = System.nanoTime(); // the release's start: this namespace's first turn
                    holdMarks[5] = 0;
                }
            }
            int budget = releaseLeft[p] > 0 ? Math.min(most, releaseLeft[p]) : Integer.MAX_VALUE;
            int keep = 0;
            int given = 0;
            for (int i = 0; i < heldCount; i++) {
                SkBuff skb = held[i];
                held[i] = null;
                if (heldProto[i] == p && given < budget) {
                    mib.inc(InDelivers);
                    handler.receive(skb);
                    given++;
                } else {
                    heldProto[keep] = heldProto[i];
                    held[keep++] = skb;
                }
            }
            heldCount = keep;
            releaseLeft[p] = Math.max(0, releaseLeft[p] - given);
            if (p == HOLD_WATCHED) {
                holdMarks[5] += given;
            }
            for (int i = 0; i < heldCount; i++) {
                if (heldProto[i] == p) {
                    return false; // more next turn
                }
            }
            releasing[p] = false;
            boolean[] next = heldFor.clone();
            next[p] = false;
            heldFor = next;
            if (p == HOLD_WATCHED) {
                holdMarks[4] = System.nanoTime();
            }
            protocols.compareAndSet(p, null, handler);
            return true;
        }
    }

    /** Per protocol, whether its release has had its first turn (guarded by {@link #held}). */
    private final boolean[] releasing = new boolean[256];
    /** Per protocol, how many of those held at its release's first turn are still to go (guarded by {@link #held}). */
    private final int[] releaseLeft = new int[256];

    /** Packets held for protocols being updated: bounded, refusals are InDiscards. */
    static final int HELD_MAX = 4096;
    private final SkBuff[] held = new SkBuff[HELD_MAX]; // guarded by itself
    private final int[] heldProto = new int[HELD_MAX]; // guarded by held
    private int heldCount; // guarded by held
    /** The protocol numbers whose packets are held, copied on change (read per packet without a lock). */
    private volatile boolean[] heldFor = new boolean[256];
    private volatile long heldDrops;

    /**
     * The handler of {@code protocol} is being updated and will hand its state to its next version:
     * until that registers, its packets wait here instead of answering protocol unreachable.
     */
    void holdFor(int protocol) {
        synchronized (held) {
            if (!heldFor[protocol & 0xff]) { // a new hold: no release of an earlier one is under way any more
                releasing[protocol & 0xff] = false;
                releaseLeft[protocol & 0xff] = 0;
            }
            if (!heldFor[protocol & 0xff] && (protocol & 0xff) == HOLD_WATCHED) {
                java.util.Arrays.fill(holdMarks, 0); // a new hold of the watched protocol: its account starts here
                holdMarks[6] = System.nanoTime();
            }
            boolean[] next = heldFor.clone();
            next[protocol & 0xff] = true;
            heldFor = next;
        }
    }

    /** The protocols whose packets wait for a next version. */
    java.util.List<Integer> heldProtocols() {
        boolean[] h = heldFor;
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int p = 0; p < 256; p++) {
            if (h[p]) {
                out.add(p);
            }
        }
        return out;
    }

    /** Packets the hold queue refused since this namespace began: each is also an InDiscards. */
    long heldDrops() {
        return heldDrops;
    }

    /**
     * This version leaves for an update: the packets held so far, in arrival order, for the next version
     * to hold ahead of anything newer. A packet that would be held after this (one still on its way
     * through this version as it leaves) is an InDiscards.
     */
    java.util.List<SkBuff> takeHeld() {
        synchronized (held) {
            java.util.List<SkBuff> out = new java.util.ArrayList<>(heldCount);
            for (int i = 0; i < heldCount; i++) {
                out.add(held[i]);
                held[i] = null;
            }
            heldCount = 0;
            heldTaken = true;
            java.util.Arrays.fill(releasing, false); // a release under way ends here: the next version holds these first
            java.util.Arrays.fill(releaseLeft, 0);
            return out;
        }
    }

    /** The packets {@link #takeHeld} took went to the next version: nothing is held here any more. */
    private boolean heldTaken; // guarded by held

    /**
     * The previous version's held packet (data at its transport header, network header set), queued
     * behind those before it. The protocol's new handler gets it when it registers.
     */
    void holdAdopted(SkBuff skb) {
        int protocol = Ipv4Header.protocol(skb, skb.networkHeader());
        if (!heldFor[protocol]) {
            holdFor(protocol); // it was held for a protocol the deposit did not name: its next version may still come
        }
        hold(skb, protocol);
    }

    /** A packet (data at its transport header) for a protocol whose new version has not registered yet. */
    private void hold(SkBuff skb, int protocol) {
        synchronized (held) {
            InetProtocol now = protocols.get(protocol);
            if (now != null) { // the new version came while this packet waited for the lock
                mib.inc(InDelivers);
                now.receive(skb);
                return;
            }
            if (heldCount == HELD_MAX || heldTaken) {
                heldDrops++;
                drop(skb, InDiscards);
                return;
            }
            heldProto[heldCount] = protocol;
            held[heldCount++] = skb;
            if (protocol == HOLD_WATCHED) {
                long t = System.nanoTime();
                if (holdMarks[0]++ == 0) {
                    holdMarks[1] = t;
                }
                holdMarks[2] = t;
            }
        }
    }

    /** The protocol whose holds {@link #holdMarks} accounts for: TCP's, the one the hand-over benchmark watches. */
    private static final int HOLD_WATCHED = 6;
    /**
     * The last hold of protocol 6, for the hand-over benchmark (guarded by {@link #held}): packets held, the first's and the
     * last's arrival (nanoTime), the release's start and end at the new version's registration, the packets it delivered,
     * when the hold began. Written only on the hold's path and at the registration, never per delivered packet.
     */
    private final long[] holdMarks = new long[7];

    /** A copy of the last hold's account of protocol 6 (see {@link #holdMarks}). */
    long[] holdMarks() {
        synchronized (held) {
            return holdMarks.clone();
        }
    }

    /** {@code ip_local_deliver_finish} for a packet a LOCAL_IN function queued and user space accepted. */
    void localInFinish(SkBuff skb, NetDevice dev) {
        int h = skb.networkHeader();
        int ihl = (skb.getU8(h) & 0xf) << 2;
        localDeliver(skb, h, ihl, routing.classify(Ipv4Header.daddr(skb, h), dev) != Destination.BROADCAST);
    }

    /** The handler of a protocol number, or null. */
    InetProtocol protocol(int protocol) {
        return protocols.get(protocol & 0xff);
    }

    void removeProtocol(int protocol, InetProtocol handler) {
        protocols.compareAndSet(protocol & 0xff, handler, null);
    }

    /** {@code ip_rcv}: the skb's data is at the IPv4 header. Takes ownership of the skb. */
    void rcv(SkBuff skb, NetDevice dev) {
        if (skb.pktType() == PktType.OTHERHOST) {
            // not for us (promiscuous): dropped before IP counts it, on the device's counter, as ip_rcv_core does
            if (dev != null) {
                dev.stats().addShared(DeviceStats.Field.RX_OTHERHOST_DROPPED, 1);
            }
            skb.free();
            return;
        }
        mib.inc(InReceives);
        mib.add(Ipv4Mib.Counter.InOctets, skb.len()); // IPSTATS_MIB_IN: packets and octets
        int h = skb.data();
        if (skb.headLen() < Ipv4Header.MIN_LEN) {
            drop(skb, InHdrErrors);
            return;
        }
        int ihl = Ipv4Header.headerLen(skb, h);
        if (Ipv4Header.version(skb, h) != 4 || ihl < Ipv4Header.MIN_LEN || skb.headLen() < ihl) {
            drop(skb, InHdrErrors);
            return;
        }
        if (!InetChecksum.verify(skb, h, ihl)) {
            mib.inc(InCsumErrors);
            drop(skb, InHdrErrors);
            return;
        }
        int totLen = Ipv4Header.totalLen(skb, h);
        if (skb.len() < totLen) {
            drop(skb, InTruncatedPkts);
            return;
        }
        if (totLen < ihl) {
            drop(skb, InHdrErrors);
            return;
        }
        mib.add(Ipv4Mib.ECN[skb.getU8(h + 1) & 3], Math.max(1, skb.gsoSegs())); // ip_rcv_core: NoECT/ECT1/ECT0/CE
        skb.trim(totLen); // link-layer padding is not part of the packet
        skb.resetNetworkHeader();
        skb.setTransportHeader(h + ihl);
        if (ihl > Ipv4Header.MIN_LEN && !optionsValid(skb, h + Ipv4Header.MIN_LEN, ihl - Ipv4Header.MIN_LEN)) {
            return; // counted inside
        }
        if (!hooks.run(org.modnet.api.netfilter.NfHook.PRE_ROUTING, skb, ns, dev, null)) {
            return;
        }
        rcvFinish(skb, dev, h, ihl);
    }

    /** {@code ip_rcv_finish}: after PRE_ROUTING, the routing decision (also where a queued packet goes on, {@code nf_reinject}). */
    void rcvFinish(SkBuff skb, NetDevice dev, int h, int ihl) {
        Destination d = routing.classify(Ipv4Header.daddr(skb, h), dev);
        if (!routing.sourceValid(skb, h, dev, d)) {
            skb.free(); // counted by the routing side (martian, IPReversePathFilter)
            return;
        }
        switch (d) {
            case LOCAL -> {
                if (hooks.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, skb, ns, dev, null)) {
                    localDeliver(skb, h, ihl, true);
                }
            }
            case BROADCAST -> {
                mib.inc(Ipv4Mib.Counter.InBcastPkts); // ip_rcv_finish_core: RTN_BROADCAST
                mib.add(Ipv4Mib.Counter.InBcastOctets, skb.len());
                if (hooks.run(org.modnet.api.netfilter.NfHook.LOCAL_IN, skb, ns, dev, null)) {
                    localDeliver(skb, h, ihl, false);
                }
            }
            default -> {
                if (forwarder != null && forwarding.applyAsInt(dev) != 0) {
                    forwarder.forward(skb, dev);
                } else {
                    drop(skb, InAddrErrors); // not ours and not forwarded: ip_error counts it, sends nothing
                }
            }
        }
    }

    /**
     * {@code ip_options_compile}: every option must fit; a malformed one is a header error. Source
     * routes are refused, as with Linux's default {@code accept_source_route=0}.
     */
    private boolean optionsValid(SkBuff skb, int at, int len) {
        int end = at + len;
        int p = at;
        while (p < end) {
            int type = skb.getU8(p);
            if (type == Ipv4Header.IPOPT_END) {
                return true;
            }
            if (type == Ipv4Header.IPOPT_NOOP) {
                p++;
                continue;
            }
            if (p + 1 >= end) {
                badOption(skb, p - (at - Ipv4Header.MIN_LEN));
                return false;
            }
            int optLen = skb.getU8(p + 1);
            if (optLen < 2 || p + optLen > end) {
                badOption(skb, p + 1 - (at - Ipv4Header.MIN_LEN));
                return false;
            }
            if (type == Ipv4Header.IPOPT_LSRR || type == Ipv4Header.IPOPT_SSRR) {
                drop(skb, InDiscards);
                return false;
            }
            if ((type == Ipv4Header.IPOPT_RR || type == Ipv4Header.IPOPT_TIMESTAMP) && optLen < 3) {
                badOption(skb, p + 1 - (at - Ipv4Header.MIN_LEN));
                return false;
            }
            p += optLen;
        }
        return true;
    }

    /** A malformed option: ICMP parameter problem pointing at it ({@code ip_options_compile}'s pp_ptr), then the drop. */
    private void badOption(SkBuff skb, int pointer) {
        parameterProblem.accept(skb, pointer);
        drop(skb, InHdrErrors);
    }

    /** {@code ip_local_deliver}: strips the IP header and hands the packet to its transport protocol. */
    private void localDeliver(SkBuff skb, int h, int ihl, boolean unicast) {
        if (Ipv4Header.isFragment(skb, h)) {
            skb = defrag == null ? noDefrag(skb) : defrag.apply(skb);
            if (skb == null) {
                return;
            }
            h = skb.data();
            ihl = Ipv4Header.headerLen(skb, h);
        }
        int proto = Ipv4Header.protocol(skb, h);
        InetProtocol handler = protocols.get(proto);
        if (handler == null && heldFor[proto]) {
            skb.pull(ihl);
            hold(skb, proto);
            return;
        }
        if (handler == null) {
            if (unicast) {
                protocolUnreachable.accept(skb); // never in answer to a broadcast
            }
            drop(skb, InUnknownProtos);
            return;
        }
        skb.pull(ihl);
        mib.inc(InDelivers);
        handler.receive(skb);
    }

    private void drop(SkBuff skb, Ipv4Mib.Counter why) {
        mib.inc(why);
        skb.free();
    }
}
