package org.modnet.api.handover;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * What every layer that hands its state over asks of its own bundle: whether a stop is an update (so
 * the state goes to the next version rather than being closed), and which state version the bundle's
 * manifest says it reads and writes.
 */
public final class BundleUpdates {
    /** The manifest header naming the state version a layer's bundle reads and writes. */
    public static final String STATE_VERSION_HEADER = "Modnet-State-Version";

    private BundleUpdates() {
    }

    /**
     * The bundle is stopping for an update (a transient stop: still persistently started) while the
     * framework keeps running; false when the context is no longer valid.
     */
    public static boolean beingUpdated(BundleContext context) {
        try {
            Bundle b = context.getBundle();
            BundleStartLevel sl = b.adapt(BundleStartLevel.class);
            return b.getState() == Bundle.STOPPING && context.getBundle(0).getState() == Bundle.ACTIVE && sl != null
                    && sl.isPersistentlyStarted();
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /**
     * Another bundle of this one's symbolic name is stopping: a staged update (the shell's {@code update}
     * of a {@code Modnet-Update: staged} module) started this one beside its predecessor's stop.
     * @since 1.7
     */
    public static boolean predecessorStopping(BundleContext context) {
        try {
            Bundle me = context.getBundle();
            for (Bundle b : context.getBundles()) {
                if (b != me && me.getSymbolicName().equals(b.getSymbolicName()) && b.getState() == Bundle.STOPPING) {
                    return true;
                }
            }
            return false;
        } catch (IllegalStateException e) {
            return false; // the context is no longer valid
        }
    }

    /**
     * The previous version's deposit, for a new version started beside its predecessor's stop: what
     * {@code take} gives at once when it is there or nobody is leaving; else {@code take} is asked again
     * every 50 us while {@code predecessorLeaving} holds, up to {@code timeoutNanos}, and once more after
     * (deposited as it finished stopping). {@code meanwhile} is called once if there is a wait, with a
     * test that turns true when the wait is over (a warm-up beside the wait must not block it). Null
     * when nothing was or will be deposited.
     * @since 1.7
     */
    public static <T> T awaitDeposit(java.util.function.Supplier<T> take, java.util.function.BooleanSupplier predecessorLeaving,
            long timeoutNanos, java.util.function.Consumer<java.util.function.BooleanSupplier> meanwhile) {
        T state = take.get();
        if (state != null || !predecessorLeaving.getAsBoolean()) {
            return state;
        }
        java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
        meanwhile.accept(over::get);
        try {
            long deadline = System.nanoTime() + timeoutNanos;
            while (predecessorLeaving.getAsBoolean() && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                state = take.get();
                if (state != null) {
                    return state;
                }
            }
            return take.get();
        } finally {
            over.set(true);
        }
    }

    /** The bundle's {@link #STATE_VERSION_HEADER}: {@code missing} without one, -1 when unreadable (adopt nothing). */
    public static int stateVersion(Bundle b, int missing) {
        String v = b.getHeaders().get(STATE_VERSION_HEADER);
        try {
            return v == null ? missing : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
