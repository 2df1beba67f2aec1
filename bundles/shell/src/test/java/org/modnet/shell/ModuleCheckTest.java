package org.modnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

/** What update, insmod and modprobe read of a jar before it goes near the framework. */
class ModuleCheckTest {
    private static byte[] jar(String... headers) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        for (int i = 0; i < headers.length; i += 2) {
            m.getMainAttributes().putValue(headers[i], headers[i + 1]);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
        return out.toByteArray();
    }

    @Test
    void bytesThatAreNoJarAreAnInvalidModuleFormat() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModuleCheck.read("hello".getBytes()));
        assertTrue(e.getMessage().startsWith("Invalid module format"), e.getMessage());
    }

    @Test
    void aJarWithoutBundleSymbolicNameIsNoOsgiBundle() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModuleCheck.read(jar("Main-Class", "x.Y")));
        assertTrue(e.getMessage().contains("no Bundle-SymbolicName"), e.getMessage());
    }

    @Test
    void aBundleImportingNoModnetPackageIsNoModnetModule() throws Exception {
        assertFalse(ModuleCheck.read(jar("Bundle-SymbolicName", "com.example.x", "Import-Package", "org.osgi.framework;version=\"[1.10,2)\"")).isModnetModule());
        assertTrue(ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.x", "Import-Package",
                "org.modnet.api.net;version=\"[1.7,2)\",org.osgi.framework")).isModnetModule());
    }

    @Test
    void importsAreParsedWithTheirRangesAndOptionality() throws Exception {
        ModuleCheck c = ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.x;singleton:=true", "Import-Package",
                "org.modnet.api.net;version=\"[9.0,10)\",org.slf4j;resolution:=optional;version=\"[2.0,3)\""));
        assertEquals("org.modnet.x", c.symbolicName);
        assertEquals(2, c.imports.size());
        assertFalse(c.imports.get(0).range().includes(new Version(1, 7, 0)), "1.7.0 is outside [9.0,10)");
        assertTrue(c.imports.get(1).optional());
    }

    @Test
    void aDifferentStateVersionIsRefusedAndTheSameOrNoneIsNot() throws Exception {
        ModuleCheck v2 = ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.ipv4", "Modnet-State-Version", "2"));
        assertEquals("it reads state version 2, the running version holds version 1", v2.stateRefusal("1"));
        assertNull(v2.stateRefusal("2"));
        assertNull(v2.stateRefusal(null), "a running version without hand-over holds nothing to read");
        ModuleCheck bad = ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.ipv4", "Modnet-State-Version", "two"));
        assertTrue(bad.stateRefusal("1").contains("not a number"));
    }

    @Test
    void onlyAJarThatSaysModnetUpdateStagedIsUpdatedStaged() throws Exception {
        assertTrue(ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.tcp", "Modnet-Update", "staged")).staged);
        assertTrue(ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.tcp", "Modnet-Update", " Staged ")).staged);
        assertFalse(ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.tcp", "Modnet-Update", "in-place")).staged);
        assertFalse(ModuleCheck.read(jar("Bundle-SymbolicName", "org.modnet.tcp")).staged, "no header: Felix's update in place");
    }
}
