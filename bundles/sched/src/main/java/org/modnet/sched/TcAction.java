package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.TcHook;
import org.modnet.api.skb.SkBuff;

/**
 * An action ({@code struct tc_action} with its {@code tc_action_ops}): run on each frame a filter
 * matched, in order ({@code tcf_action_exec}); it returns a verdict. {@link TcHook#TC_ACT_STOLEN}
 * means the action took the frame (sent it elsewhere, or freed it): nobody may touch it after.
 */
abstract class TcAction {
    /** {@code tcf_index}: the action's number within its kind, as tc prints it (0 until it is in its table). */
    int index;
    final TcCounters stats = new TcCounters();
    /** {@code tcfa_refcnt}, {@code tcfa_bindcnt}: who holds it (tc actions and filters), and how many of them are filters. */
    int refcnt;
    int bindcnt;
    /** The table of its kind in its namespace, once it is in it; guarded by {@link ActApi}'s lock. */
    java.util.Map<Integer, TcAction> table;

    TcAction(int index) {
        this.index = index;
    }

    /** {@code ref R bind B}, as tc prints them. */
    final String refs() {
        return "ref " + refcnt + " bind " + bindcnt;
    }

    /** The kind, as {@code tc actions} names it: gact, mirred, police, bpf. */
    abstract String kind();

    abstract int act(SkBuff skb, boolean ingress);

    /** The lines tc prints after {@code action order N: }; the first continues that line. */
    abstract List<String> describe();

    /**
     * {@code tc actions replace|change} on this action ({@code tcf_idr_check_alloc} with
     * {@code ovr}): takes {@code fresh}'s parameters (an action of its kind, just parsed) in place, so
     * the filters bound to it act on the next frame by them; its counters and references stay.
     */
    abstract void replaceWith(TcAction fresh);

    /** The action leaves (the last filter or tc actions entry holding it let it go). */
    void destroy() {
    }

    /** A filter that held it goes ({@code tcf_action_destroy} with bind): the last holder takes it out of its table. */
    final void unbind() {
        ActApi.release(this, true);
    }

    /** {@code TC_ACT_GOTO_CHAIN} ({@code __TC_ACT_EXT(2)}): or'ed with the chain index. */
    static final int TC_ACT_GOTO_CHAIN = 2 << 28;
    /** {@code TC_ACT_EXT_OPCODE_MAX}'s mask: the opcode bits of an extended verdict. */
    static final int TC_ACT_EXT_OPCODE_MASK = 0xf000_0000;

    static boolean isGotoChain(int v) {
        return (v & TC_ACT_EXT_OPCODE_MASK) == TC_ACT_GOTO_CHAIN;
    }

    /** iproute2's {@code action_n2a}: a verdict's word. */
    static String verdictName(int v) {
        if (isGotoChain(v)) {
            return "goto chain " + (v & TcFilterBlock.MAX_CHAIN);
        }
        return switch (v) {
            case TcHook.TC_ACT_UNSPEC -> "continue";
            case TcHook.TC_ACT_OK -> "pass";
            case TcHook.TC_ACT_SHOT -> "drop";
            case TcHook.TC_ACT_RECLASSIFY -> "reclassify";
            case TcHook.TC_ACT_PIPE -> "pipe";
            case TcHook.TC_ACT_STOLEN -> "stolen";
            case TcHook.TC_ACT_TRAP -> "trap";
            case TcHook.TC_ACT_REDIRECT -> "redirect";
            default -> Integer.toString(v);
        };
    }

    /** iproute2's {@code action_a2n}: a control word's verdict, or null if it is none. */
    static Integer verdict(String word) {
        return switch (word) {
            case "continue" -> TcHook.TC_ACT_UNSPEC;
            case "drop", "shot" -> TcHook.TC_ACT_SHOT;
            case "pass", "ok" -> TcHook.TC_ACT_OK;
            case "reclassify" -> TcHook.TC_ACT_RECLASSIFY;
            case "pipe" -> TcHook.TC_ACT_PIPE;
            case "trap" -> TcHook.TC_ACT_TRAP;
            default -> null;
        };
    }
}
