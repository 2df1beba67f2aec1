package org.modnet.sched;

import java.util.List;

import org.modnet.api.skb.SkBuff;

/**
 * A classifier's match ({@code tcf_proto_ops->classify} of one filter): whether a frame is this
 * filter's, or — for a program in direct-action mode — the verdict itself.
 */
interface Cls {
    /** Not this filter's frame: the next filter is asked. */
    int NO_MATCH = Integer.MIN_VALUE;
    /** This filter's frame: its actions decide ({@code tcf_exts_exec}). */
    int MATCH = Integer.MIN_VALUE + 1;

    /** {@link #NO_MATCH}, {@link #MATCH}, or a verdict of its own. */
    int classify(SkBuff skb, boolean ingress);

    /** {@code tc filter show}: what follows {@code handle H } on the filter's line, and the lines below it. */
    void print(List<String> out, StringBuilder line, boolean stats);

    /**
     * The class this filter names for the frame it just classified on this thread: {@code own} (its
     * {@code classid}) unless the classifier chooses one per frame (a bpf program's {@code tc_classid}).
     */
    default int classid(int own) {
        return own;
    }

    /** The filter is deleted or replaced. */
    default void destroy() {
    }
}
