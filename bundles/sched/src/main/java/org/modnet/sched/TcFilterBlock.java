package org.modnet.sched;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.net.Eth;
import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * A filter chain (chain 0 of a {@code tcf_block}): classifier instances by preference, lowest first.
 * {@link #classify} is {@code tcf_classify}: the first filter whose protocol fits and which gives a
 * verdict decides; {@code continue} (unspec) asks the next; {@code reclassify} starts again, at most
 * {@value #MAX_RECLASSIFY_LOOP} times, then the frame is dropped. Changes replace the array whole.
 */
final class TcFilterBlock {
    /** {@code max_reclassify_loop}. */
    static final int MAX_RECLASSIFY_LOOP = 4;

    private volatile TcFilterProto[] chain = new TcFilterProto[0];

    /** The verdict in the low 32 bits, the deciding filter's class id in the high 32. */
    long classify(SkBuff skb, boolean ingress) {
        int proto = ClsPacket.protocol(skb, ingress);
        for (int loop = 0; loop < MAX_RECLASSIFY_LOOP; loop++) {
            boolean again = false;
            search:
            for (TcFilterProto tp : chain) {
                if (tp.protocol != proto && tp.protocol != Eth.ETH_P_ALL) {
                    continue;
                }
                for (TcFilter f : tp.filters) {
                    int r = f.classify(skb, ingress);
                    if (r == TcHook.TC_ACT_RECLASSIFY) {
                        again = true;
                        break search;
                    }
                    if (r >= 0) {
                        return result(r, f.classid);
                    }
                }
            }
            if (!again) {
                return result(TcHook.TC_ACT_UNSPEC, 0);
            }
        }
        return result(TcHook.TC_ACT_SHOT, 0); // a reclassify loop: the kernel drops it too
    }

    static long result(int verdict, int classid) {
        return ((long) classid << 32) | (verdict & 0xffff_ffffL);
    }

    static int verdict(long result) {
        return (int) result;
    }

    static int classid(long result) {
        return (int) (result >>> 32);
    }

    boolean isEmpty() {
        return chain.length == 0;
    }

    List<TcFilterProto> protos() {
        return List.of(chain);
    }

    TcFilterProto find(int pref) {
        for (TcFilterProto tp : chain) {
            if (tp.pref == pref) {
                return tp;
            }
        }
        return null;
    }

    /** {@code tcf_auto_prio}: 0xC000 for the first, one below the lowest for the next. */
    int autoPref() {
        TcFilterProto[] c = chain;
        return c.length == 0 ? 0xc000 : c[0].pref - 1;
    }

    void insert(TcFilterProto tp) {
        TcFilterProto[] next = Arrays.copyOf(chain, chain.length + 1);
        next[chain.length] = tp;
        Arrays.sort(next, Comparator.comparingInt(p -> p.pref));
        chain = next;
    }

    void remove(TcFilterProto tp) {
        chain = Arrays.stream(chain).filter(x -> x != tp).toArray(TcFilterProto[]::new);
        for (TcFilter f : tp.filters) {
            f.destroy();
        }
    }

    /** {@code tcf_chain_flush}: every filter goes. */
    void flush() {
        for (TcFilterProto tp : new ArrayList<>(List.of(chain))) {
            remove(tp);
        }
    }
}
