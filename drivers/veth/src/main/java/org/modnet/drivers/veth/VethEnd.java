package org.modnet.drivers.veth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.RxQueue;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;

/**
 * One end of a veth pair: its transmit is its peer's receive. While a qdisc sits on a transmit queue,
 * the queue's frames are charged to its byte queue limits as they enter the peer's ring and completed
 * as the peer's NAPI poll takes them, so the queue stops while the peer is behind and the standing
 * queue builds in the qdisc, where fq_codel sees it (the veth BQL work proposed for Linux; Linux 6.18's
 * veth has no byte_queue_limits).
 */
final class VethEnd implements NetDeviceOps {
    private final Set<VethEnd> registry;
    private volatile VethEnd peer;
    private volatile NetDevice dev;
    /** Per transmit queue: its charge and completion across the pair, made once (no allocation per frame). */
    private final RxQueue.TxCompletion[] txDone;

    VethEnd(Set<VethEnd> registry, int maxTxQueues) {
        this.registry = registry;
        this.txDone = new RxQueue.TxCompletion[maxTxQueues];
        for (int i = 0; i < maxTxQueues; i++) {
            txDone[i] = new TxQueueCompletion(i);
        }
    }

    /** {@code netdev_tx_sent_queue} at xmit, {@code netdev_tx_completed_queue} at the peer's poll, for one queue. */
    private final class TxQueueCompletion implements RxQueue.TxCompletion {
        private final int queue;

        TxQueueCompletion(int queue) {
            this.queue = queue;
        }

        @Override
        public void sent(int bytes) {
            NetDevice d = dev;
            if (d != null) {
                d.txSentQueue(queue, bytes);
            }
        }

        @Override
        public void completed(int packets, int bytes) {
            NetDevice d = dev;
            if (d != null) {
                d.txCompletedQueue(queue, packets, bytes);
            }
        }
    }

    void pair(VethEnd other) {
        this.peer = other;
        other.peer = this;
    }

    void attach(NetDevice device) {
        this.dev = device;
    }

    /**
     * {@code veth_xmit}: the frame goes into the peer's receive ring (the queue its hash picks), and
     * the peer's NAPI takes it from there. A peer that is down drops it, counted as our tx_dropped.
     */
    @Override
    public TxResult startXmit(SkBuff skb, NetDevice self) {
        NetDevice p = peer == null ? null : peer.dev;
        DeviceStats stats = self.stats();
        if (p == null || !p.isUp()) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return TxResult.OK;
        }
        int len = skb.len();
        if (p.namespace() != self.namespace()) {
            skb.mark(0); // skb_scrub_packet: nothing of one namespace's marking crosses into another
        }
        skb.nfct(null, SkBuff.NFCT_NONE); // skb_scrub_packet's nf_reset_ct: the peer tracks the packet afresh
        int txq = skb.queueMapping();
        boolean queued = !"noqueue".equals(self.qdisc()) && txq >= 0 && txq < txDone.length;
        // veth_xmit: a queue's frames go to the peer's ring of the same number (so each queue's
        // completions come from one NAPI poll); without a qdisc, by the flow hash
        RxQueue q = p.rxQueue(Math.floorMod(queued ? txq : skb.hash(), p.rxQueues()));
        if (p.xdpNative()) {
            return toNativeXdp(skb, q, len, stats);
        }
        if (queued ? q.receive(skb, txDone[txq]) : q.receive(skb)) {
            stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
            stats.addShared(DeviceStats.Field.TX_BYTES, len);
        } else {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
        }
        return TxResult.OK;
    }

    /**
     * The peer runs XDP natively: the frame is handed over in place, as veth gives its peer the frame
     * itself (made linear and writable first); only what the program passes becomes an skb there.
     */
    private static TxResult toNativeXdp(SkBuff skb, RxQueue q, int len, DeviceStats stats) {
        // a program sees a frame as the wire would carry it: one segment (fixFeatures kept GSO away; one
        // built before the program came is dropped), its checksum complete
        if (skb.isGso() || (skb.dataLen() > 0 && !skb.linearize()) || (!skb.isWritable() && !skb.unshare())
                || !org.modnet.api.inet.InetChecksum.complete(skb)) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return TxResult.OK;
        }
        q.receiveFrame(skb.memory(), skb.data(), len); // the peer counts what its program or its ring refuses
        skb.free();
        stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
        stats.addShared(DeviceStats.Field.TX_BYTES, len);
        return TxResult.OK;
    }

    /** {@code veth_fix_features}: while the peer runs XDP natively, no GSO skb may cross to it. */
    @Override
    public long fixFeatures(NetDevice self, long features) {
        NetDevice p = peer == null ? null : peer.dev;
        if (p != null && p.xdpNative()) {
            return features & ~(org.modnet.api.net.NetdevFeatures.NETIF_F_TSO | org.modnet.api.net.NetdevFeatures.NETIF_F_GSO
                    | org.modnet.api.net.NetdevFeatures.NETIF_F_GSO_UDP_L4);
        }
        return features;
    }

    @Override
    public boolean nativeXdp(NetDevice self) {
        return true;
    }

    @Override
    public boolean carrier(NetDevice self) {
        NetDevice p = peer == null ? null : peer.dev;
        return p != null && p.isUp();
    }

    @Override
    public NetDevice link(NetDevice self) {
        return peer == null ? null : peer.dev;
    }

    @Override
    public boolean deletable(NetDevice self) {
        return true;
    }

    /** Unregistering one end takes the other with it, as {@code veth_dellink} does. */
    @Override
    public void uninit(NetDevice self) {
        registry.remove(this);
        VethEnd p = peer;
        if (p != null && p.dev != null) {
            p.dev.namespace().unregister(p.dev);
        }
    }

    void unregister() {
        NetDevice d = dev;
        if (d != null) {
            d.namespace().unregister(d);
        }
    }

    @Override
    public Map<String, String> driverInfo(NetDevice self) {
        return Map.of("driver", "veth", "version", "1.0", "bus-info", "");
    }

    @Override
    public Map<String, Long> ethtoolStats(NetDevice self) {
        Map<String, Long> stats = new LinkedHashMap<>();
        NetDevice p = link(self);
        stats.put("peer_ifindex", p == null ? 0L : (long) p.ifindex());
        return stats;
    }

    /**
     * {@code veth_get_strings} / {@code veth_get_ethtool_stats} (Linux 6.x): {@code peer_ifindex}, each
     * receive queue's {@code veth_rq_stats_desc} and each transmit queue's {@code veth_tq_stats_desc},
     * then modnet's own. modnet's veth always receives through its NAPI ring, as Linux's does with GRO
     * or XDP on, so a queue's {@code xdp_packets}/{@code xdp_bytes} are what its poll took and
     * {@code drops} what its full ring refused. modnet counts XDP verdicts per device, not per queue:
     * queue 0 carries them. No frame is redirected into a veth ({@code ndo_xdp_xmit}) nor fails XDP_TX
     * unnoticed here, so those stay 0.
     */
    @Override
    public Map<String, Long> ethtoolStats(NetDevice self, Map<String, Long> generic) {
        Map<String, Long> stats = ethtoolStats(self);
        for (int i = 0; i < self.rxQueues(); i++) {
            String q = "rx_queue_" + i + "_";
            boolean first = i == 0;
            stats.put(q + "xdp_packets", generic.getOrDefault(q + "packets", 0L));
            stats.put(q + "xdp_bytes", generic.getOrDefault(q + "bytes", 0L));
            stats.put(q + "drops", generic.getOrDefault(q + "ring_full_drops", 0L));
            stats.put(q + "xdp_redirect", first ? generic.getOrDefault("xdp_redirect", 0L) : 0L);
            stats.put(q + "xdp_drops", first ? generic.getOrDefault("xdp_drop", 0L) : 0L);
            stats.put(q + "xdp_tx", first ? generic.getOrDefault("xdp_tx", 0L) : 0L);
            stats.put(q + "xdp_tx_errors", 0L);
        }
        for (int i = 0; i < self.txQueues(); i++) {
            stats.put("tx_queue_" + i + "_xdp_xmit", 0L);
            stats.put("tx_queue_" + i + "_xdp_xmit_errors", 0L);
        }
        stats.putAll(generic);
        return stats;
    }
}
