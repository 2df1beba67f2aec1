package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;

/**
 * {@code ip_defrag} ({@code net/ipv4/ip_fragment.c}): fragments wait in a queue per (source,
 * destination, id, protocol) until the datagram is whole, then it is rebuilt in one buffer. An overlap
 * discards the whole datagram (as Linux does since RFC 5722's lesson); a queue older than
 * {@code ipfrag_time} times out (ICMP time exceeded, "fragment reassembly", if its first fragment
 * came); queued bytes past {@code ipfrag_high_thresh} make new fragments fail. Queues are kept apart by
 * user ({@code enum ip_defrag_users}: local delivery, conntrack at PRE_ROUTING or LOCAL_OUT per zone), as
 * Linux keys them; the rebuilt datagram carries the largest fragment's size ({@code frag_max_size}).
 */
final class Ipv4Defrag {
    private record Key(int saddr, int daddr, int id, int protocol, int user) {
    }

    private static final class Frag {
        final int offset;
        final int len;
        final SkBuff skb; // data at the IP header

        Frag(int offset, int len, SkBuff skb) {
            this.offset = offset;
            this.len = len;
            this.skb = skb;
        }
    }

    private final class Queue {
        final Key key;
        final List<Frag> frags = new ArrayList<>();
        final Timer timer;
        int total = -1; // known once the last fragment (MF clear) came
        int received;
        int end; // the furthest byte any fragment so far reaches
        int maxSize; // the largest fragment, header included (q.max_size)
        int maxDfSize; // the largest with DF set (max_df_size)
        SkBuff first; // the fragment at offset 0: its header is the datagram's

        Queue(Key key) {
            this.key = key;
            this.timer = net.core.timer(key.id, () -> expire(this));
        }
    }

    private final Ipv4Net net;
    private final Map<Key, Queue> queues = new LinkedHashMap<>();
    private long memory;

    Ipv4Defrag(Ipv4Net net) {
        this.net = net;
    }

    /**
     * Takes a fragment (data at its IP header, already validated). Returns the whole datagram when this
     * fragment completed it (a new skb, data at its IP header), else null: the fragment is queued,
     * or was dropped and counted.
     */
    SkBuff add(SkBuff skb) {
        return add(skb, org.modnet.api.inet.Ipv4.IP_DEFRAG_LOCAL_DELIVER);
    }

    /** {@link #add(SkBuff)} into the queues of {@code user} ({@code ip_defrag}'s user argument). */
    SkBuff add(SkBuff skb, int user) {
        net.mib.inc(Ipv4Mib.Counter.ReasmReqds);
        int h = skb.data();
        int ihl = Ipv4Header.headerLen(skb, h);
        int fragField = Ipv4Header.fragOff(skb, h);
        int offset = (fragField & Ipv4Header.OFFSET_MASK) * 8;
        boolean more = (fragField & Ipv4Header.FLAG_MF) != 0;
        int len = Ipv4Header.totalLen(skb, h) - ihl;
        if (len <= 0 || (more && (len & 7) != 0) || offset + len > 65535 - ihl) {
            return fail(skb); // a middle fragment must carry a multiple of 8 bytes; nothing past 64 KiB
        }
        SkBuff whole = null;
        List<SkBuff> dropped = new ArrayList<>();
        synchronized (this) {
            Key key = new Key(Ipv4Header.saddr(skb, h), Ipv4Header.daddr(skb, h), skb.getU16(h + Ipv4Header.ID),
                    Ipv4Header.protocol(skb, h), user);
            if (memory + skb.truesize() > net.fragHighThresh.get()) {
                dropped.add(skb);
                net.mib.inc(Ipv4Mib.Counter.ReasmFails);
            } else {
                Queue q = queues.computeIfAbsent(key, k -> {
                    Queue nq = new Queue(k);
                    nq.timer.mod(net.fragTime.get() * 1000L);
                    return nq;
                });
                if (!more && ((q.total >= 0 && q.total != offset + len) || offset + len < q.end)) {
                    // a second, different end, or an end before bytes already received (ip_frag_queue's
                    // "end < qp->q.len"): the datagram is corrupt
                    discard(q, dropped);
                    dropped.add(skb);
                } else if (overlaps(q, offset, len) || (q.total >= 0 && offset + len > q.total)) {
                    discard(q, dropped); // RFC 5722: overlapping fragments void the datagram
                    dropped.add(skb);
                } else {
                    q.frags.add(new Frag(offset, len, skb));
                    q.received += len;
                    q.end = Math.max(q.end, offset + len);
                    memory += skb.truesize();
                    int fragSize = ihl + len;
                    q.maxSize = Math.max(q.maxSize, fragSize);
                    if ((fragField & Ipv4Header.FLAG_DF) != 0) {
                        q.maxDfSize = Math.max(q.maxDfSize, fragSize);
                    }
                    if (offset == 0) {
                        q.first = skb;
                    }
                    if (!more) {
                        q.total = offset + len;
                    }
                    if (q.total >= 0 && q.received == q.total && q.first != null) {
                        whole = rebuild(q, dropped);
                    }
                }
            }
        }
        for (SkBuff d : dropped) {
            d.free();
        }
        return whole;
    }

    private static boolean overlaps(Queue q, int offset, int len) {
        for (Frag f : q.frags) {
            if (offset < f.offset + f.len && f.offset < offset + len) {
                return true;
            }
        }
        return false;
    }

    /** {@code ip_frag_reasm}: one buffer with the first fragment's header and every fragment's data. */
    private SkBuff rebuild(Queue q, List<SkBuff> release) {
        remove(q, release);
        int h0 = q.first.data();
        int ihl = Ipv4Header.headerLen(q.first, h0);
        SkBuff whole = net.core.allocSkb(ihl + q.total, 128);
        if (whole == null) {
            net.mib.inc(Ipv4Mib.Counter.ReasmFails);
            return null;
        }
        int o = whole.put(ihl + q.total);
        byte[] buf = new byte[Math.max(ihl, 2048)];
        q.first.getBytes(h0, buf, 0, ihl);
        whole.setBytes(o, buf, 0, ihl);
        for (Frag f : q.frags) {
            int src = f.skb.data() + Ipv4Header.headerLen(f.skb, f.skb.data());
            int copied = 0;
            while (copied < f.len) {
                int n = Math.min(buf.length, f.len - copied);
                f.skb.getBytes(src + copied, buf, 0, n);
                whole.setBytes(o + ihl + f.offset + copied, buf, 0, n);
                copied += n;
            }
        }
        whole.setU16(o + Ipv4Header.TOT_LEN, ihl + q.total);
        // DF again only when the largest fragment carried it, so a router does not send a DF datagram
        // larger than the pieces its sender sent (ip_frag_reasm's IPSKB_FRAG_PMTU)
        whole.setU16(o + Ipv4Header.FRAG_OFF, q.maxDfSize == q.maxSize ? Ipv4Header.FLAG_DF : 0);
        whole.setU16(o + Ipv4Header.CHECK, 0);
        whole.setU16(o + Ipv4Header.CHECK, InetChecksum.checksum(whole, o, ihl));
        whole.resetNetworkHeader();
        whole.setTransportHeader(o + ihl);
        whole.dev(q.first.dev());
        whole.pktType(q.first.pktType());
        whole.protocol(q.first.protocol());
        whole.mark(q.first.mark());
        whole.priority(q.first.priority());
        whole.fragMaxSize(Math.max(q.maxSize, q.maxDfSize));
        net.mib.inc(Ipv4Mib.Counter.ReasmOKs);
        return whole;
    }

    /** A datagram that cannot complete: its fragments go, counted once. */
    private void discard(Queue q, List<SkBuff> release) {
        remove(q, release);
        net.mib.inc(Ipv4Mib.Counter.ReasmFails);
    }

    private void remove(Queue q, List<SkBuff> release) {
        queues.remove(q.key);
        q.timer.del();
        for (Frag f : q.frags) {
            memory -= f.skb.truesize();
            release.add(f.skb);
        }
    }

    /** {@code ip_expire}: the datagram did not complete in time. */
    private void expire(Queue q) {
        List<SkBuff> release = new ArrayList<>();
        SkBuff first;
        synchronized (this) {
            if (queues.get(q.key) != q) {
                return;
            }
            net.mib.inc(Ipv4Mib.Counter.ReasmTimeout);
            first = q.first;
            discard(q, release);
        }
        // RFC 792: only the end host says "reassembly time exceeded"; conntrack's queues on a router do not
        if (first != null && (q.key.user == org.modnet.api.inet.Ipv4.IP_DEFRAG_LOCAL_DELIVER
                || net.classify(q.key.daddr, null) == Ipv4Input.Destination.LOCAL)) {
            net.icmp.sendError(first, Icmp.TIME_EXCEEDED, 1, 0); // fragment reassembly time exceeded
        }
        for (SkBuff d : release) {
            d.free();
        }
    }

    private SkBuff fail(SkBuff skb) {
        net.mib.inc(Ipv4Mib.Counter.ReasmFails);
        skb.free();
        return null;
    }

    /** The namespace goes: every waiting fragment is freed. */
    synchronized void clear() {
        List<SkBuff> release = new ArrayList<>();
        for (Iterator<Queue> it = new ArrayList<>(queues.values()).iterator(); it.hasNext();) {
            remove(it.next(), release);
        }
        release.forEach(SkBuff::free);
    }

    /**
     * A hand-over: the queues in progress are not carried to the next version; each is a reassembly
     * that failed (ReasmFails), as the sender sees a datagram lost. Returns how many went.
     */
    synchronized int dropForHandOver() {
        int n = queues.size();
        for (int i = 0; i < n; i++) {
            net.mib.inc(Ipv4Mib.Counter.ReasmFails);
        }
        clear();
        return n;
    }
}
