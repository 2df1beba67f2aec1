package org.modnet.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.feature.FeatureInfo;

/** What removing a feature keeps, the report lines, and the router and xdp features as shipped. */
class FeaturePlanTest {
    private static final String CORE = "org.modnet:org.modnet.core:0.1.0-SNAPSHOT";
    private static final String UDP = "org.modnet:org.modnet.udp:0.1.0-SNAPSHOT";

    private static FeatureInfo feature(String name, List<String> bundles, Map<String, Map<String, Object>> configs) {
        return new FeatureInfo(name, "g:" + name + ":1", "", bundles, configs, true);
    }

    private static FeatureInfo shipped(String name) throws IOException {
        Path file = Path.of(System.getProperty("modnet.root", "../..")).resolve("features").resolve(name + ".json");
        return FeatureFile.parse(name, Files.readString(file));
    }

    @Test
    void aFeaturesBundleIsStillItsOwnAfterAStagedUpdateGaveItALocationEndingInHashN() {
        String jar = "org.modnet.tcp-0.1.0-SNAPSHOT.jar";
        String location = "feature:file:/opt/modnet/repo/" + jar;
        assertTrue(FeaturePlan.installedFrom(location, jar));
        assertTrue(FeaturePlan.installedFrom(location + "#2", jar), "the staged update's second location");
        assertTrue(FeaturePlan.installedFrom(location + "#13", jar));
        assertFalse(FeaturePlan.installedFrom("file:/opt/modnet/bundles/" + jar + "#2", jar), "the launcher's bundle, not a feature's");
        assertFalse(FeaturePlan.installedFrom(location + "#2", "org.modnet.udp-0.1.0-SNAPSHOT.jar"));
        assertFalse(FeaturePlan.installedFrom(location + "#x", jar), "only a number after # is the staged suffix");
    }

    @Test
    void aBundleAnotherInstalledFeatureListsIsKeptAndNamesThatFeature() {
        List<FeatureInfo> others = List.of(feature("xdp", List.of(UDP), Map.of()), feature("host", List.of(CORE, UDP), Map.of()));
        assertEquals("host", FeaturePlan.bundleNeededBy(CORE, others));
        assertEquals("xdp", FeaturePlan.bundleNeededBy(UDP, others));
        assertNull(FeaturePlan.bundleNeededBy("org.modnet:org.modnet.tcp:0.1.0-SNAPSHOT", others));
    }

    @Test
    void aConfigurationAnotherInstalledFeatureCarriesIsKept() {
        List<FeatureInfo> others = List.of(feature("router2", List.of(), Map.of("org.modnet.sysctl", Map.of())));
        assertEquals("router2", FeaturePlan.configurationNeededBy("org.modnet.sysctl", others));
        assertNull(FeaturePlan.configurationNeededBy("org.modnet.sysctl", List.of()));
    }

    @Test
    void theConfiguredLineNamesThePidAndEveryValueSortedByName() {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("net.ipv4.ip_forward", 1L);
        props.put("net.ipv4.conf.all.forwarding", 1L);
        assertEquals("configured org.modnet.sysctl net.ipv4.conf.all.forwarding=1 net.ipv4.ip_forward=1",
                FeaturePlan.configured("org.modnet.sysctl", props, true));
        assertEquals("configuration unchanged org.modnet.sysctl net.ipv4.ip_forward=1",
                FeaturePlan.configured("org.modnet.sysctl", Map.of("net.ipv4.ip_forward", 1L), false));
    }

    @Test
    void routerForwardsInEveryNamespaceAndHasNoSockets() throws IOException {
        FeatureInfo router = shipped("router");
        assertEquals(Map.of("net.ipv4.ip_forward", 1L, "net.ipv4.conf.all.forwarding", 1L),
                router.configurations().get("org.modnet.sysctl"));
        assertTrue(router.bundles().contains("org.modnet:org.modnet.ipv4:0.1.0-SNAPSHOT"), router.bundles().toString());
        assertTrue(router.bundles().contains("org.modnet:org.modnet.drivers.veth:0.1.0-SNAPSHOT"));
        for (String layer : List.of("socket", "udp", "tcp", "ebpf", "xdp")) {
            assertFalse(router.bundles().contains("org.modnet:org.modnet." + layer + ":0.1.0-SNAPSHOT"), layer);
        }
    }

    @Test
    void xdpHasEbpfAndTheHookButNoIpStack() throws IOException {
        FeatureInfo xdp = shipped("xdp");
        assertTrue(xdp.bundles().contains("org.modnet:org.modnet.ebpf:0.1.0-SNAPSHOT"));
        assertTrue(xdp.bundles().contains("org.modnet:org.modnet.xdp:0.1.0-SNAPSHOT"));
        for (String layer : List.of("ethernet", "ipv4", "socket", "udp", "tcp")) {
            assertFalse(xdp.bundles().contains("org.modnet:org.modnet." + layer + ":0.1.0-SNAPSHOT"), layer);
        }
        assertTrue(xdp.configurations().isEmpty());
    }
}
