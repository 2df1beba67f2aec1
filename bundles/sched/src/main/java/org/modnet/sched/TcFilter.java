package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * One filter: its handle within its classifier instance, the class it names ({@code classid}/
 * {@code flowid}, 0 for none), its match and its actions ({@code tcf_exts}).
 */
final class TcFilter {
    final int handle;
    final int classid;
    final Cls cls;
    final TcAction[] actions;

    TcFilter(int handle, int classid, Cls cls, List<TcAction> actions) {
        this.handle = handle;
        this.classid = classid;
        this.cls = cls;
        this.actions = actions.toArray(TcAction[]::new);
    }

    /** The filter's verdict for the frame, or {@link TcHook#TC_ACT_UNSPEC} when it is not its frame. */
    int classify(SkBuff skb, boolean ingress) {
        int r = cls.classify(skb, ingress);
        if (r == Cls.NO_MATCH) {
            return TcHook.TC_ACT_UNSPEC;
        }
        if (r == Cls.MATCH) {
            return actions.length == 0 ? TcHook.TC_ACT_OK : ActApi.exec(actions, skb, ingress); // tcf_exts_exec
        }
        return r;
    }

    void destroy() {
        cls.destroy();
        for (TcAction a : actions) {
            a.unbind();
        }
    }
}
