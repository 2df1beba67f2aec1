package org.modnet.sched;

import org.modnet.api.skb.SkBuff;

/**
 * {@code tcf_classify}: the filters a classful qdisc consults to pick a packet's class ({@code tc filter
 * add dev D parent 1: ... flowid 1:10}). A classful qdisc holds one ({@link #NONE} until filters are
 * attached) and calls it on enqueue; the filter side fills the preallocated {@link Result}, so
 * classifying allocates nothing.
 */
interface TcfClassifier {
    /** {@code TC_ACT_UNSPEC}: no filter matched; the qdisc falls back to its own rules (priority, default class). */
    int TC_ACT_UNSPEC = -1;
    /** {@code TC_ACT_OK}: matched; {@link Result#classid} names the class. */
    int TC_ACT_OK = 0;
    /** {@code TC_ACT_SHOT}: drop the packet (counted as the qdisc's drop). */
    int TC_ACT_SHOT = 2;

    /** {@code struct tcf_result}: what a matching filter chose. */
    final class Result {
        int classid;
    }

    /** No filters: nothing matches. */
    TcfClassifier NONE = (skb, res) -> TC_ACT_UNSPEC;

    /** Runs the filters on {@code skb}; sets {@code res.classid} when one matched. Under the qdisc's lock, without allocating. */
    int classify(SkBuff skb, Result res);
}
