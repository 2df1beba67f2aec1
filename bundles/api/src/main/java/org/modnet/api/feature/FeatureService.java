package org.modnet.api.feature;

import java.util.List;

/**
 * Installs and removes features live. A feature's bundles are installed together, refreshed once and
 * started; removing a feature uninstalls the bundles that no other installed feature (and not the
 * launcher) needs.
 */
public interface FeatureService {

    /** Every feature known to the feature directory, installed or not, by name. */
    List<FeatureInfo> features();

    /**
     * Installs and starts the bundles of the named feature and applies its configurations.
     *
     * @return what this call did, one line each: bundles installed and started, started, or already
     *         present, and configurations applied
     * @throws FeatureException if the feature is unknown, a bundle is missing or does not start
     */
    List<String> install(String name) throws FeatureException;

    /**
     * Uninstalls the named feature's bundles that nothing else still needs.
     *
     * @return what this call did, one line each: bundles uninstalled or kept (and why), configurations
     *         deleted or kept
     * @throws FeatureException if the feature is unknown or not installed
     */
    List<String> uninstall(String name) throws FeatureException;
}
