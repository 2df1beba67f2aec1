package org.modnet.feature;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.modnet.api.feature.FeatureInfo;

/**
 * What removing a feature keeps, and the words {@code feature install|uninstall} report with: one line
 * per bundle and per configuration, as {@code modprobe -v} prints one line per module it loads.
 */
final class FeaturePlan {
    private FeaturePlan() {
    }

    /** The first other installed feature that lists this bundle, or null if none does. */
    static String bundleNeededBy(String bundleId, Collection<FeatureInfo> others) {
        for (FeatureInfo f : others) {
            if (f.bundles().contains(bundleId)) {
                return f.name();
            }
        }
        return null;
    }

    /**
     * Whether a feature installed the bundle at {@code location} from the jar {@code fileName}: its
     * location is {@code feature:} and the jar's URL, or that with {@code #N} after it — the location a
     * staged update gives the new bundle while the running one still holds the first
     * ({@code update NAME FILE} on a {@code Modnet-Update: staged} module), so the feature still owns it.
     */
    static boolean installedFrom(String location, String fileName) {
        if (!location.startsWith(FeatureManager.LOCATION_PREFIX)) {
            return false;
        }
        String root = location.replaceFirst("#\\d+$", "");
        return root.endsWith("/" + fileName);
    }

    /** The first other installed feature that carries this configuration PID, or null if none does. */
    static String configurationNeededBy(String pid, Collection<FeatureInfo> others) {
        for (FeatureInfo f : others) {
            if (f.configurations().containsKey(pid)) {
                return f.name();
            }
        }
        return null;
    }

    static String installedAndStarted(String bundle) {
        return "installed and started " + bundle;
    }

    static String started(String bundle) {
        return "started " + bundle;
    }

    static String present(String bundle) {
        return "present " + bundle;
    }

    static String uninstalled(String bundle) {
        return "stopped and uninstalled " + bundle;
    }

    static String keptForFeature(String bundle, String feature) {
        return "kept " + bundle + ": feature " + feature + " lists it";
    }

    static String keptForLauncher(String bundle) {
        return "kept " + bundle + ": the launcher started it";
    }

    /** {@code configured org.modnet.sysctl net.ipv4.ip_forward=1 ...}, properties sorted by name. */
    static String configured(String pid, Map<String, Object> properties, boolean changed) {
        String values = new TreeMap<>(properties).entrySet().stream()
                .map(e -> e.getKey() + "=" + text(e.getValue()))
                .collect(Collectors.joining(" "));
        return (changed ? "configured " : "configuration unchanged ") + pid + (values.isEmpty() ? "" : " " + values);
    }

    static String deletedConfiguration(String pid) {
        return "deleted configuration " + pid;
    }

    static String keptConfiguration(String pid, String feature) {
        return "kept configuration " + pid + ": feature " + feature + " carries it";
    }

    private static String text(Object value) {
        return value instanceof List<?> l ? l.stream().map(String::valueOf).collect(Collectors.joining(",")) : String.valueOf(value);
    }
}
