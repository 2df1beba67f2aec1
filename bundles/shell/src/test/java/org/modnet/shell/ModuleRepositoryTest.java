package org.modnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleRepositoryTest {
    @TempDir
    Path dir;

    private Path jar(String file, String bsn, String version, String exports, String provides) throws IOException {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-SymbolicName", bsn);
        a.putValue("Bundle-Version", version);
        if (exports != null) {
            a.putValue("Export-Package", exports);
        }
        if (provides != null) {
            a.putValue("Provide-Capability", provides);
        }
        Path p = dir.resolve(file);
        try (OutputStream out = Files.newOutputStream(p); JarOutputStream jar = new JarOutputStream(out, mf)) {
            jar.flush();
        }
        return p;
    }

    @Test
    void findsAModuleByItsNameOrItsShortForm() throws IOException {
        Path udp = jar("org.modnet.udp-0.1.0-SNAPSHOT.jar", "org.modnet.udp", "0.1.0.SNAPSHOT", null, null);
        Path veth = jar("org.modnet.drivers.veth-0.1.0.jar", "org.modnet.drivers.veth;singleton:=true", "0.1.0", null, null);
        ModuleRepository repo = new ModuleRepository(dir);
        assertEquals(udp, repo.find("org.modnet.udp").jar());
        assertEquals(udp, repo.find("udp").jar());
        assertEquals(veth, repo.find("veth").jar());
        assertEquals("org.modnet.drivers.veth", repo.find("veth").name());
        assertNull(repo.find("foo"));
    }

    @Test
    void prefersTheHighestVersionOfAModule() throws IOException {
        jar("a-1.jar", "org.modnet.udp", "0.1.0", null, null);
        Path newer = jar("a-2.jar", "org.modnet.udp", "0.2.0", null, null);
        assertEquals(newer, new ModuleRepository(dir).find("udp").jar());
    }

    @Test
    void findsWhoExportsAPackageAndWhoRegistersAService() throws IOException {
        Path api = jar("api.jar", "org.modnet.api",  "0.1.0",
                "org.modnet.api.inet;version=\"1.2.0\";uses:=\"org.modnet.api.net,org.modnet.api.skb\",org.modnet.api.net;org.modnet.api.skb;version=\"1.0.0\"",
                null);
        Path ipv4 = jar("ipv4.jar", "org.modnet.ipv4", "0.1.0", null,
                "osgi.service;objectClass:List<String>=\"org.modnet.api.inet.Ipv4,org.modnet.api.net.PernetOperations\";uses:=\"org.modnet.api.inet\",osgi.service;objectClass:List<String>=\"org.modnet.api.inet.Fib\"");
        ModuleRepository repo = new ModuleRepository(dir);
        assertEquals(api, repo.exporting("org.modnet.api.inet").jar());
        assertEquals(api, repo.exporting("org.modnet.api.net").jar());
        assertEquals(api, repo.exporting("org.modnet.api.skb").jar());
        assertNull(repo.exporting("org.modnet.api.nosuch"));
        assertEquals(ipv4, repo.providing("org.modnet.api.inet.Ipv4").jar());
        assertEquals(ipv4, repo.providing("org.modnet.api.net.PernetOperations").jar());
        assertEquals(ipv4, repo.providing("org.modnet.api.inet.Fib").jar());
        assertNull(repo.providing("org.modnet.api.inet.Udp"));
    }

    @Test
    void aMissingFolderHoldsNoModules() throws IOException {
        assertEquals(List.of(), new ModuleRepository(dir.resolve("nosuch")).modules());
    }

    @Test
    void splitsClausesAtCommasOutsideQuotes() {
        assertEquals(List.of("a;uses:=\"x,y\"", "b;version=\"1.0\""), ModuleRepository.clauses("a;uses:=\"x,y\", b;version=\"1.0\""));
        assertEquals(List.of(), ModuleRepository.clauses(null));
    }
}
