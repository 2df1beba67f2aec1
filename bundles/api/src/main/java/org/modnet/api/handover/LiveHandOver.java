package org.modnet.api.handover;

/**
 * A layer's version that hands its state over while its bundle is still active, so an update swaps
 * the two versions without Felix's stop and start on the way: the shell's {@code update} starts the
 * next version in standby (its component active, no service of the layer registered), asks it to
 * {@link #prepare}, asks the running version to {@link #leave} (its services go and its state goes
 * to the holder, its bundle still active), asks the next version to {@link #take} it (it adopts and
 * registers), and only then stops and uninstalls the old bundle, whose stop finds nothing left to
 * hand over. Each version registers one, with {@link #LAYER}; a next version that finds a running
 * version's at its activation waits in standby for {@link #take}.
 *
 * @since 1.10
 */
public interface LiveHandOver {
    /** The service property naming the layer (e.g. {@code tcp}): a next version stands by for a running version of its own layer. */
    String LAYER = "modnet.handover.layer";

    /** The next version in standby: makes what its adoption needs (its per-namespace state, its code linked) before the swap. */
    void prepare();

    /**
     * The running version: its layer's services leave (their users hold its packets and park its sockets, as for
     * an update) and its state goes to the holder; returns once the state is there. Its bundle's stop then hands
     * nothing over.
     */
    void leave();

    /** The next version: adopts what {@link #leave} deposited (or refuses it, by its version) and registers its services. */
    void take();
}
