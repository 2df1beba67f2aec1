package org.modnet.sched;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.modnet.api.skb.SkBuff;

/**
 * One {@code u32} node ({@code net/sched/cls_u32.c}, a {@code tc_u32_knode} in the root table 800:):
 * 32-bit keys — value, mask and offset from the network header — that must all hold. A key marked
 * {@code nexthdr+} is offset by the next-header offset, which without a linked hash table is 0, as in
 * Linux. Counts how often it was tried ({@code rcnt}), matched ({@code rhit}) and each key held.
 */
final class ClsU32 implements Cls {
    /** A key as iproute2 packs it: a whole big-endian word at a 4-aligned offset. */
    record Key(int val, int mask, int off, boolean nexthdr) {
    }

    private final Key[] keys;
    private final int nodeId;
    private final int classid;
    private final boolean terminal;
    private final AtomicLong tried = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLongArray keyHits;

    ClsU32(List<Key> keys, int nodeId, int classid, boolean terminal) {
        this.keys = keys.toArray(Key[]::new);
        this.nodeId = nodeId;
        this.classid = classid;
        this.terminal = terminal;
        this.keyHits = new AtomicLongArray(this.keys.length);
    }

    @Override
    public int classify(SkBuff skb, boolean ingress) {
        tried.incrementAndGet();
        int nh = ClsPacket.network(skb, ingress);
        for (int i = 0; i < keys.length; i++) {
            Key k = keys[i];
            int at = nh + k.off();
            if (!ClsPacket.in(skb, at, 4) || ((skb.getU32(at) ^ k.val()) & k.mask()) != 0) {
                return NO_MATCH;
            }
            keyHits.incrementAndGet(i);
        }
        hits.incrementAndGet();
        return MATCH;
    }

    @Override
    public void print(List<String> out, StringBuilder line, boolean stats) {
        line.append("order ").append(nodeId).append(" key ht 800 bkt 0 ");
        if (classid != 0) {
            line.append(terminal ? "" : "*").append("flowid ").append(TcUtil.handle(classid)).append(' ');
        } else if (terminal) {
            line.append("terminal flowid ");
        }
        line.append("not_in_hw ");
        if (stats) {
            line.append(" (rule hit ").append(tried.get()).append(" success ").append(hits.get()).append(')');
        }
        out.add(line.toString());
        for (int i = 0; i < keys.length; i++) {
            Key k = keys[i];
            String m = String.format("  match %08x/%08x at %s%d", k.val(), k.mask(), k.nexthdr() ? "nexthdr+" : "", k.off());
            out.add(stats ? m + " (success " + keyHits.get(i) + " ) " : m);
        }
    }
}
