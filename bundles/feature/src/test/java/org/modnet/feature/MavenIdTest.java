package org.modnet.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

class MavenIdTest {

    @Test
    void aSnapshotVersionIsTheOsgiVersionBndWrites() {
        assertEquals(new Version(0, 1, 0, "SNAPSHOT"), MavenId.parse("org.modnet:org.modnet.api:0.1.0-SNAPSHOT").osgiVersion());
    }

    @Test
    void shortVersionsArePaddedAndTheFileNameIsMavens() {
        MavenId id = MavenId.parse("g:art:1.2");
        assertEquals(new Version(1, 2, 0), id.osgiVersion());
        assertEquals("art-1.2.jar", id.fileName());
    }

    @Test
    void theVersionIsTheLastPartWhenATypeOrClassifierIsGiven() {
        MavenId id = MavenId.parse("g:art:jar:tests:3.0.1");
        assertEquals("3.0.1", id.version());
        assertEquals("art", id.artifact());
    }
}
