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
