package org.modnet.sched;

import org.modnet.api.sched.Qdisc;

/**
 * A qdisc with classes that hold child qdiscs ({@code struct Qdisc_class_ops}: {@code leaf},
 * {@code graft}): where {@code tc qdisc add ... parent H:N} puts a qdisc. Called under the qdisc's lock.
 */
interface ClassfulQdisc extends Qdisc {
    /** The handle it was given ({@code sch->handle}), before any packet comes: class ids are under it. */
    default void handle(int handle) {
    }

    /**
     * Where {@code tc filter add dev D parent H: ...} attaches: the filters the qdisc consults to
     * classify ({@code tcf_block}); {@link TcfClassifier#NONE} or null takes them away. A qdisc that
     * classifies by its own rules only ignores them.
     */
    default void filters(TcfClassifier filters) {
    }

    /** True if {@code classid} names a class of this qdisc that holds a child qdisc (a leaf). */
    boolean hasLeaf(int classid);

    /** {@code cops->leaf}: the child qdisc in that class. */
    Qdisc leaf(int classid);

    /** {@code cops->graft}: puts {@code q} in the class (null: a fresh default child); returns the one it replaced, not yet reset. */
    Qdisc graft(int classid, Qdisc q);
}
