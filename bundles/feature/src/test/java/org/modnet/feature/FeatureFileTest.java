package org.modnet.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.modnet.api.feature.FeatureInfo;

class FeatureFileTest {

    @Test
    void readsIdDescriptionBundlesInOrderAndConfigurations() {
        FeatureInfo f = FeatureFile.parse("router", """
                {
                  "feature-resource-version": "1.0",
                  "id": "org.modnet.features:router:1.0.0",
                  "description": "a router",
                  "bundles": ["g:a:1.0", {"id": "g:b:2.0", "start-order": 3}],
                  "configurations": {"org.modnet.ipv4": {"ip_forward": 1, "names": ["x", "y"]}}
                }""");
        assertEquals("router", f.name());
        assertEquals("org.modnet.features:router:1.0.0", f.id());
        assertEquals("a router", f.description());
        assertEquals(List.of("g:a:1.0", "g:b:2.0"), f.bundles());
        assertEquals(Map.of("ip_forward", 1L, "names", List.of("x", "y")), f.configurations().get("org.modnet.ipv4"));
        assertFalse(f.installed());
    }

    @Test
    void refusesAFeatureWithoutAnIdOrWithABadBundleId() {
        assertThrows(IllegalArgumentException.class, () -> FeatureFile.parse("x", "{\"bundles\": []}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeatureFile.parse("x", "{\"id\": \"g:x:1\", \"bundles\": [\"just-a-name\"]}"));
        assertEquals("feature x: bundle id must be group:artifact:version, not just-a-name", e.getMessage());
    }

    @Test
    void refusesAnUnsupportedFormatVersionAndBadJson() {
        assertThrows(IllegalArgumentException.class,
                () -> FeatureFile.parse("x", "{\"feature-resource-version\": \"2.0\", \"id\": \"g:x:1\"}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureFile.parse("x", "{"));
        assertTrue(e.getMessage().startsWith("feature x: bad JSON at line 1"), e.getMessage());
    }

    @Test
    void everyFeatureOfTheProjectParsesAndNamesItsBundlesOnce() throws IOException {
        Path dir = Path.of(System.getProperty("modnet.root", "../..")).resolve("features");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> features = files.filter(p -> p.toString().endsWith(".json")).toList();
            assertTrue(features.size() >= 2, "minimal and full at least: " + features);
            for (Path file : features) {
                String name = file.getFileName().toString().replace(".json", "");
                FeatureInfo f = FeatureFile.parse(name, Files.readString(file));
                assertEquals(f.bundles().size(), f.bundles().stream().distinct().count(), name);
                assertTrue(f.bundles().contains("org.modnet:org.modnet.feature:0.1.0-SNAPSHOT"), name);
            }
        }
    }
}
