package org.modnet.feature;

import org.osgi.framework.Version;

/** A {@code group:artifact:version} id, as features name bundles, and its OSGi version. */
record MavenId(String group, String artifact, String version) {

    static MavenId parse(String id) {
        String[] parts = id.split(":");
        if (parts.length < 3) {
            throw new IllegalArgumentException("not group:artifact:version: " + id);
        }
        // group:artifact[:type[:classifier]]:version, the version last, as the Feature spec writes it
        return new MavenId(parts[0], parts[1], parts[parts.length - 1]);
    }

    /** The file name maven-dependency-plugin and a Maven repository give the artifact. */
    String fileName() {
        return artifact + "-" + version + ".jar";
    }

    /** Maven's {@code 1.2-SNAPSHOT} is OSGi's {@code 1.2.0.SNAPSHOT}, as bnd writes Bundle-Version. */
    Version osgiVersion() {
        String v = version;
        String qualifier = "";
        int dash = v.indexOf('-');
        if (dash >= 0) {
            qualifier = v.substring(dash + 1).replaceAll("[^A-Za-z0-9_-]", "_");
            v = v.substring(0, dash);
        }
        String[] nums = v.split("\\.");
        int[] n = new int[3];
        for (int i = 0; i < Math.min(3, nums.length); i++) {
            try {
                n[i] = Integer.parseInt(nums[i]);
            } catch (NumberFormatException e) {
                qualifier = nums[i] + qualifier;
            }
        }
        return new Version(n[0], n[1], n[2], qualifier);
    }

    @Override
    public String toString() {
        return group + ":" + artifact + ":" + version;
    }
}
