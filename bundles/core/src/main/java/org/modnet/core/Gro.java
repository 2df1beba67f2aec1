package org.modnet.core;

import java.lang.foreign.MemorySegment;

import org.modnet.api.net.PacketOffload;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/**
 * A NAPI instance's generic receive offload ({@code net/core/gro.c}): {@code napi_gro_receive} holds
 * the frames of a poll per flow, in {@value #GRO_HASH_BUCKETS} buckets by the frame's hash of at most
 * {@value #MAX_GRO_SKBS} flows each, and appends each frame that continues a held flow to it, as the
 * protocol of its ethertype says ({@link PacketOffload#groMatch}: IPv4, then TCP); a flow that cannot
 * take the next frame, a frame that ends its flow (PSH, FIN), and the held flows when the NAPI instance
 * completes ({@code napi_gro_flush}: all of them, or with {@code gro_flush_timeout} only those first held
 * in an earlier jiffy, the rest kept for the next poll or the watchdog's, {@link #flush(boolean, long)})
 * go up, through the queue's {@code netif_receive_skb} (generic XDP, then the stack), as one skb of many segments ({@code gso_size} the first
 * frame's payload, {@code gso_segs} the frames, the headers made one packet's by
 * {@link PacketOffload#groComplete}). A full bucket sends its oldest flow up first
 * ({@code gro_flush_oldest}), counted. A frame whose headers the callbacks refuse (a short or
 * malformed header, by their own bounds checks, not by an exception; IP options, a fragment, a bad
 * checksum) goes up alone at once and the held flows stay, as {@code dev_gro_receive} sends up a frame
 * whose {@code gro_receive} flushed it without a flow ({@code pp} null); a frame whose headers they
 * take but which may not be merged or held (SYN, RST, URG, no payload, an IPv4 total length that is not
 * the frame's) sends its own flow up first, if one is held, then goes up alone. The receive path drops
 * and counts a bad one as it does without GRO. When the device goes down the held flows are freed, not
 * sent up ({@link #freeAll}: {@code __netif_napi_del}'s {@code flush_gro_hash}, as a veth's close
 * deletes its NAPI instances), counted.
 *
 * <p>The payload is copied: the first merge moves the held frame into a 64 KiB buffer of the core's
 * large pool, and each later frame's payload is copied behind it and the frame freed, so TCP gets one
 * linear skb. Held skbs carry their first payload in {@code gso_size} and their frame count in
 * {@code gso_segs} while held. Used in the softirq context of the queue's CPU only (its poll, a busy
 * poll, or the device's close holding that context): no lock, no allocation.
 */
final class Gro {
    static final int GRO_HASH_BUCKETS = 8;
    static final int MAX_GRO_SKBS = 8;
    /** What one IPv4 packet can be: the held skb (from its network header) does not grow past it. */
    static final int GRO_MAX_SIZE = 65535;

    private final CoreEngine core;
    /** The queue whose NAPI instance this is: what goes up goes through its {@code netif_receive_skb} (generic XDP, then the stack). */
    private final RxQueueImpl queue;
    /** Bucket {@code b}'s flows at {@code b * MAX_GRO_SKBS}, oldest first. */
    private final SkBuff[] held = new SkBuff[GRO_HASH_BUCKETS * MAX_GRO_SKBS];
    private final PacketOffload[] offload = new PacketOffload[GRO_HASH_BUCKETS * MAX_GRO_SKBS];
    /** Each held flow's age: the jiffy it was first held in ({@code NAPI_GRO_CB(skb)->age}). */
    private final long[] age = new long[GRO_HASH_BUCKETS * MAX_GRO_SKBS];
    private final int[] count = new int[GRO_HASH_BUCKETS];
    /** The jiffy of the poll under way ({@link #pollStarted}). */
    private long jiffy;
    private int total;

    // the polling thread's counters
    private long merged;
    private long mergedSkbs;
    private long flushedFull;
    private long noBuffer;
    private long kept;
    private long flushedAged;
    private long freed;

    Gro(CoreEngine core, RxQueueImpl queue) {
        this.core = core;
        this.queue = queue;
    }

    /**
     * {@code napi_gro_receive}: the frame (data at its network header, {@code eth_type_trans} done) is
     * merged into a held flow, held as a new one, or goes up now.
     */
    void receive(SkBuff skb) {
        PacketOffload o = core.offloads().find(skb.protocol());
        if (o == null || skb.isGso() || skb.dataLen() > 0 || skb.isCloned() || skb.isShared()) {
            up(skb); // GRO_NORMAL: nothing to merge it with (a GSO frame from the TAP is many already)
            return;
        }
        skb.resetNetworkHeader();
        // the callbacks read nothing past the frame (their own bounds checks, as skb_gro_header's): a
        // header that does not fit, or fails their checks before any flow is looked at, is -1, and the
        // frame goes up alone, the held flows untouched (inet_gro_receive's and tcp4_gro_receive's flush
        // with no pp), for the receive path to count
        int h = o.groHeaderLen(skb);
        if (h < 0) {
            up(skb);
            return;
        }
        boolean last = (h & PacketOffload.GRO_FINAL) != 0;
        int hlen = h & 0xffff;
        int b = skb.hash() & (GRO_HASH_BUCKETS - 1);
        int base = b * MAX_GRO_SKBS;
        for (int i = 0; i < count[b]; i++) {
            if (offload[base + i] != o) {
                continue;
            }
            SkBuff p = held[base + i];
            int r = o.groMatch(p, skb, hlen);
            if ((r & PacketOffload.GRO_SAME_FLOW) == 0) {
                continue;
            }
            if ((r & PacketOffload.GRO_MERGE) != 0 && (p = append(base + i, p, skb, hlen)) != null) {
                o.groMerged(p, skb);
                p.gso(p.gsoSize(), p.gsoSegs() + 1, p.gsoType());
                skb.free();
                merged++;
                if (last || (r & PacketOffload.GRO_FLUSH) != 0) {
                    flush(b, i);
                }
                return;
            }
            flush(b, i); // same flow, cannot take it: the held one goes up before it (pp)
            break;
        }
        if (last) {
            up(skb);
            return;
        }
        if (count[b] == MAX_GRO_SKBS) {
            flushedFull++;
            flush(b, 0); // gro_flush_oldest
        }
        int at = base + count[b]++;
        held[at] = skb;
        offload[at] = o;
        age[at] = jiffy;
        total++;
        skb.gso(skb.len() - hlen, 1, 0);
    }

    /**
     * {@code skb_gro_receive}'s copy: the frame's payload behind the held skb's, the held skb moved to a
     * large buffer first when it has no room. The held skb (perhaps a new one), or null when no large
     * buffer is free or it would pass {@value #GRO_MAX_SIZE} bytes.
     */
    private SkBuff append(int slot, SkBuff p, SkBuff skb, int hlen) {
        int n = skb.len() - hlen;
        if (p.len() + n > GRO_MAX_SIZE) {
            return null;
        }
        if (p.tailroom() < n) {
            SkBuff q = grow(p);
            if (q == null || q.tailroom() < n) {
                if (q != null) {
                    held[slot] = q;
                }
                noBuffer++;
                return null;
            }
            held[slot] = q;
            p = q;
        }
        int at = p.put(n);
        MemorySegment.copy(skb.memory(), skb.data() + hlen, p.memory(), at, n);
        return p;
    }

    /** The held skb copied into a large buffer, with its MAC header (taps see it), the original freed; null if none is free. */
    private SkBuff grow(SkBuff p) {
        int mac = p.macHeaderWasSet() && p.macHeader() < p.data() ? p.data() - p.macHeader() : 0;
        SkBuff q = core.allocSkb(GRO_MAX_SIZE + mac, SkBuffPool.NET_SKB_PAD);
        if (q == null) {
            return null;
        }
        int at = q.put(mac + p.len());
        MemorySegment.copy(p.memory(), p.data() - mac, q.memory(), at, mac + p.len());
        q.setMacHeader(at);
        q.pull(mac);
        q.resetNetworkHeader();
        q.protocol(p.protocol());
        q.pktType(p.pktType());
        q.dev(p.dev());
        q.hash(p.hash());
        q.queueMapping(p.queueMapping());
        q.tstamp(p.tstamp());
        q.mark(p.mark());
        q.priority(p.priority());
        q.ipSummed(p.ipSummed() == Checksum.PARTIAL ? Checksum.UNNECESSARY : p.ipSummed());
        q.csum(p.csum());
        q.gso(p.gsoSize(), p.gsoSegs(), p.gsoType());
        p.free();
        return q;
    }

    /** Flow {@code i} of bucket {@code b} goes up ({@code napi_gro_complete}). */
    private void flush(int b, int i) {
        int base = b * MAX_GRO_SKBS;
        SkBuff p = held[base + i];
        PacketOffload o = offload[base + i];
        int n = --count[b];
        System.arraycopy(held, base + i + 1, held, base + i, n - i);
        System.arraycopy(offload, base + i + 1, offload, base + i, n - i);
        System.arraycopy(age, base + i + 1, age, base + i, n - i);
        held[base + n] = null;
        offload[base + n] = null;
        total--;
        if (p.gsoSegs() > 1) {
            mergedSkbs++;
            o.groComplete(p);
        } else {
            p.gso(0, 0, 0);
        }
        up(p);
    }

    /** A poll starts at {@code nanos} on the core's clock: flows held from now on are of its jiffy. */
    void pollStarted(long nanos) {
        jiffy = nanos / NSEC_PER_JIFFY;
    }

    private static final long NSEC_PER_JIFFY = 1_000_000_000L / org.modnet.api.net.Jiffies.HZ;

    /** {@code napi_gro_flush(napi, false)}: every held flow goes up, each bucket's oldest first. */
    void flushAll() {
        flush(false, 0);
    }

    /**
     * {@code napi_gro_flush}: the held flows go up, each bucket's oldest first; with {@code flushOld}
     * only those first held before the jiffy of {@code nanos} (a bucket's flows are in age order, so
     * its first young one ends its walk), the rest kept and counted.
     */
    void flush(boolean flushOld, long nanos) {
        if (total == 0) {
            return;
        }
        long now = nanos / NSEC_PER_JIFFY;
        for (int b = 0; b < GRO_HASH_BUCKETS; b++) {
            int base = b * MAX_GRO_SKBS;
            while (count[b] > 0) {
                if (flushOld) {
                    if (age[base] == now) {
                        break;
                    }
                    flushedAged++;
                }
                flush(b, 0);
            }
        }
        kept += total;
    }

    /**
     * {@code flush_gro_hash}, as {@code __netif_napi_del} runs it when the device goes down (a veth's
     * close deletes its NAPI instances after {@code napi_disable}): every held flow is freed, not sent
     * up, and counted. The caller holds the queue's softirq context. Returns how many were freed.
     */
    int freeAll() {
        if (total == 0) {
            return 0;
        }
        int n = 0;
        for (int b = 0; b < GRO_HASH_BUCKETS; b++) {
            int base = b * MAX_GRO_SKBS;
            for (int i = 0; i < count[b]; i++) {
                held[base + i].free();
                held[base + i] = null;
                offload[base + i] = null;
                n++;
            }
            count[b] = 0;
        }
        total = 0;
        freed += n;
        return n;
    }

    private void up(SkBuff skb) {
        queue.netifReceive(skb);
    }

    /** Flows held now (between the frames of a poll). */
    int held() {
        return total;
    }

    /** Frames appended to a held flow. */
    long merged() {
        return merged;
    }

    /** Skbs of more than one frame that went up. */
    long mergedSkbs() {
        return mergedSkbs;
    }

    /** Flows sent up early because their bucket was full ({@code gro_flush_oldest}). */
    long flushedFull() {
        return flushedFull;
    }

    /** Flows left held at a flush that kept the young ones ({@code gro_flush_timeout}), once per flush. */
    long kept() {
        return kept;
    }

    /** Flows a flush that kept the young ones sent up for their age (held since an earlier jiffy). */
    long flushedAged() {
        return flushedAged;
    }

    /** Held flows freed, not sent up, because the device went down ({@link #freeAll}). */
    long freed() {
        return freed;
    }

    /** Merges given up because no large buffer was free. */
    long noBuffer() {
        return noBuffer;
    }
}
