package org.modnet.api.feature;

import java.util.List;
import java.util.Map;

/**
 * A feature as its file describes it.
 *
 * @param name           the short name ({@code minimal}, {@code full}), the file name without {@code .json}
 * @param id             the feature's Maven-style id, {@code group:artifact:version}
 * @param description    one line for {@code feature list}
 * @param bundles        bundle ids, {@code group:artifact:version}, in start order
 * @param configurations configuration PID to properties, applied through Configuration Admin
 * @param installed      whether the feature is installed now
 */
public record FeatureInfo(String name, String id, String description, List<String> bundles,
        Map<String, Map<String, Object>> configurations, boolean installed) {

    public FeatureInfo {
        bundles = List.copyOf(bundles);
        configurations = Map.copyOf(configurations);
    }
}
