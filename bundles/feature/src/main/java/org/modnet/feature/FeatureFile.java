package org.modnet.feature;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.api.feature.FeatureInfo;

/**
 * Reads one feature file in the OSGi Feature format (Compendium R8.1, chapter 159): an {@code id}
 * ({@code group:artifact:version}), a {@code description}, {@code bundles} (ids, or objects with an
 * {@code id}) and {@code configurations} (PID to properties). Unknown keys are ignored, as the
 * specification requires of readers.
 */
final class FeatureFile {
    private FeatureFile() {
    }

    static FeatureInfo parse(String name, String text) {
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("feature " + name + ": bad JSON at " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("feature " + name + ": the file must hold a JSON object");
        }
        Object version = map.get("feature-resource-version");
        if (version != null && !"1.0".equals(version)) {
            throw new IllegalArgumentException("feature " + name + ": feature-resource-version " + version
                    + " is not supported (1.0 is)");
        }
        String id = requireId(name, map.get("id"), "id");
        String description = map.get("description") instanceof String s ? s : "";

        List<String> bundles = new ArrayList<>();
        Object list = map.get("bundles");
        if (list != null) {
            if (!(list instanceof List<?> entries)) {
                throw new IllegalArgumentException("feature " + name + ": \"bundles\" must be an array");
            }
            for (Object entry : entries) {
                Object bundleId = entry instanceof Map<?, ?> m ? m.get("id") : entry;
                bundles.add(requireId(name, bundleId, "bundle id"));
            }
        }

        Map<String, Map<String, Object>> configurations = new LinkedHashMap<>();
        Object configs = map.get("configurations");
        if (configs != null) {
            if (!(configs instanceof Map<?, ?> byPid)) {
                throw new IllegalArgumentException("feature " + name + ": \"configurations\" must be an object");
            }
            for (Map.Entry<?, ?> e : byPid.entrySet()) {
                if (!(e.getValue() instanceof Map<?, ?> props)) {
                    throw new IllegalArgumentException("feature " + name + ": configuration " + e.getKey()
                            + " must be an object");
                }
                Map<String, Object> copy = new LinkedHashMap<>();
                props.forEach((k, v) -> copy.put(String.valueOf(k), v));
                configurations.put(String.valueOf(e.getKey()), copy);
            }
        }
        return new FeatureInfo(name, id, description, bundles, configurations, false);
    }

    private static String requireId(String feature, Object value, String what) {
        if (!(value instanceof String s) || s.split(":", -1).length < 3 || s.contains("::")) {
            throw new IllegalArgumentException("feature " + feature + ": " + what + " must be group:artifact:version, not "
                    + value);
        }
        return s;
    }
}
