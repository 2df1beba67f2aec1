package org.modnet.sched;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * A filter block ({@code struct tcf_block}): its chains, each holding classifier instances by
 * preference, lowest first. {@link #classify} is {@code tcf_classify}: it starts at chain 0; the first
 * filter whose protocol fits and which gives a verdict decides; {@code continue} (unspec) asks the
 * next; {@code reclassify} starts the chain again and {@code goto chain N} goes on at chain N's
 * first filter, together at most {@value #MAX_RECLASSIFY_LOOP} times, then the frame is dropped. A
 * chain is listed while it holds filters or was made by {@code tc chain add}; a {@code goto} to a
 * chain that is not there finds nothing ({@code continue}), as a chain only an action holds is empty.
 * Changes replace the arrays whole, so the packet path reads them without a lock.
 */
final class TcFilterBlock {
    /** {@code max_reclassify_loop} (16 since Linux 5.14). */
    static final int MAX_RECLASSIFY_LOOP = 16;
    /** {@code TC_ACT_EXT_VAL_MASK}: the highest chain index. */
    static final int MAX_CHAIN = 0x0fff_ffff;

    /** A chain ({@code struct tcf_chain}). */
    static final class Chain {
        final int index;
        volatile TcFilterProto[] protos = new TcFilterProto[0];
        /** {@code explicitly_created}: made by {@code tc chain add}, stays when its last filter goes. */
        boolean explicit;

        Chain(int index) {
            this.index = index;
        }
    }

    /** In the order they were made, as {@code tc chain show} lists them. */
    private volatile Chain[] chains = new Chain[0];

    /** The verdict in the low 32 bits, the deciding filter's class id in the high 32. */
    long classify(SkBuff skb, boolean ingress) {
        int proto = ClsPacket.protocol(skb, ingress);
        Chain chain = chain(0);
        for (int loop = 0; loop < MAX_RECLASSIFY_LOOP; loop++) {
            Chain next = null;
            search:
            for (TcFilterProto tp : chain == null ? NONE : chain.protos) {
                if (tp.protocol != proto && tp.protocol != Eth.ETH_P_ALL) {
                    continue;
                }
                for (TcFilter f : tp.filters) {
                    int r = f.classify(skb, ingress);
                    if (r == TcHook.TC_ACT_RECLASSIFY) {
                        next = chain;
                        break search;
                    }
                    if (TcAction.isGotoChain(r)) {
                        next = chain(r & MAX_CHAIN);
                        if (next == null) {
                            return result(TcHook.TC_ACT_UNSPEC, 0); // a chain with no filters
                        }
                        break search;
                    }
                    if (r >= 0) {
                        return result(r, f.cls.classid(f.classid));
                    }
                }
            }
            if (next == null) {
                return result(TcHook.TC_ACT_UNSPEC, 0);
            }
            chain = next;
        }
        return result(TcHook.TC_ACT_SHOT, 0); // a reclassify or goto loop: the kernel drops it too
    }

    private static final TcFilterProto[] NONE = new TcFilterProto[0];

    static long result(int verdict, int classid) {
        return ((long) classid << 32) | (verdict & 0xffff_ffffL);
    }

    static int verdict(long result) {
        return (int) result;
    }

    static int classid(long result) {
        return (int) (result >>> 32);
    }

    /** The chain of that index, or null. */
    Chain chain(int index) {
        for (Chain c : chains) {
            if (c.index == index) {
                return c;
            }
        }
        return null;
    }

    /** Every chain, in the order they were made. */
    List<Chain> chains() {
        return List.of(chains);
    }

    /** The chain of that index, made (not explicitly) when it is not there. */
    Chain chainOrNew(int index) {
        Chain c = chain(index);
        if (c == null) {
            c = new Chain(index);
            Chain[] next = Arrays.copyOf(chains, chains.length + 1);
            next[chains.length] = c;
            chains = next;
        }
        return c;
    }

    /** {@code tc chain add}: false when it is there already. */
    boolean addChain(int index) {
        Chain c = chain(index);
        if (c != null && (c.explicit || c.protos.length > 0)) {
            return false;
        }
        chainOrNew(index).explicit = true;
        return true;
    }

    /** {@code tc chain del}: its filters go with it; false when there is no such chain. */
    boolean deleteChain(int index) {
        Chain c = chain(index);
        if (c == null) {
            return false;
        }
        flush(index);
        c.explicit = false;
        dropIfEmpty(c);
        return true;
    }

    private void dropIfEmpty(Chain c) {
        if (!c.explicit && c.protos.length == 0) {
            chains = Arrays.stream(chains).filter(x -> x != c).toArray(Chain[]::new);
        }
    }

    boolean isEmpty() {
        for (Chain c : chains) {
            if (c.protos.length > 0) {
                return false;
            }
        }
        return true;
    }

    /** Chain {@code index}'s classifier instances (none when there is no such chain). */
    List<TcFilterProto> protos(int index) {
        Chain c = chain(index);
        return c == null ? List.of() : List.of(c.protos);
    }

    TcFilterProto find(int index, int pref) {
        Chain c = chain(index);
        if (c == null) {
            return null;
        }
        for (TcFilterProto tp : c.protos) {
            if (tp.pref == pref) {
                return tp;
            }
        }
        return null;
    }

    /** {@code tcf_auto_prio}: 0xC000 for the chain's first, one below its lowest for the next. */
    int autoPref(int index) {
        Chain c = chain(index);
        return c == null || c.protos.length == 0 ? 0xc000 : c.protos[0].pref - 1;
    }

    void insert(int index, TcFilterProto tp) {
        Chain c = chainOrNew(index);
        TcFilterProto[] next = Arrays.copyOf(c.protos, c.protos.length + 1);
        next[c.protos.length] = tp;
        Arrays.sort(next, Comparator.comparingInt(p -> p.pref));
        c.protos = next;
    }

    void remove(int index, TcFilterProto tp) {
        Chain c = chain(index);
        if (c == null) {
            return;
        }
        c.protos = Arrays.stream(c.protos).filter(x -> x != tp).toArray(TcFilterProto[]::new);
        for (TcFilter f : tp.filters) {
            f.destroy();
        }
        dropIfEmpty(c);
    }

    /** {@code tcf_chain_flush}: every filter of the chain goes. */
    void flush(int index) {
        Chain c = chain(index);
        if (c == null) {
            return;
        }
        for (TcFilterProto tp : new ArrayList<>(List.of(c.protos))) {
            remove(index, tp);
        }
    }

    /** The block goes: every chain's filters with it. */
    void flush() {
        for (Chain c : chains) {
            for (TcFilterProto tp : c.protos) {
                for (TcFilter f : tp.filters) {
                    f.destroy();
                }
            }
        }
        chains = new Chain[0];
    }
}
