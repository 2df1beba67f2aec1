package org.modnet.ipset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/**
 * The same ipset commands given to Linux's ipset inside a network namespace this test makes and to
 * modnet's: list, save and the error words agree, but for what is Linux's own (the hash's random
 * initval, the kernel's memory size, the order of a hash's members). Skips without ipset or root.
 */
class LinuxIpsetTest {
    private final String ns = "modnet-ipset-" + ProcessHandle.current().pid();
    private boolean made;
    private final Ipset ours = new Ipset(System::nanoTime);

    private static final String[] COMMANDS = {
            "create a hash:ip", "add a 10.0.0.1", "add a 10.0.0.2",
            "create b hash:net maxelem 100 counters", "add b 10.1.0.0/16", "add b 10.2.0.0/24", "add b 10.3.3.3",
            "create c hash:ip,port hashsize 300", "add c 10.0.0.1,tcp:80", "add c 10.0.0.2,udp:53", "add c 10.0.0.3,443",
            "create d bitmap:port range 1000-2000", "add d 1500", "add d 1001-1003",
            "create e hash:ip timeout 0", "-exist add a 10.0.0.1", "del a 10.0.0.2" };

    private static final String[] ERRORS = {
            "add a 10.0.0.1", "del a 10.0.0.9", "create a hash:ip", "list zz", "add zz 1.2.3.4", "create x hash:foo",
            "add d 3000", "add c 10.0.0.1", "add a 10.9.0.1 timeout 5", "add a 300.1.1.1", "swap a b", "swap a zz",
            "test a 10.0.0.9", "test b 10.2.0.0/16" };

    private static boolean have(String cmd) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", cmd));
    }

    private static String[] exec(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new String[] { Integer.toString(p.waitFor()), out };
    }

    private String[] linux(String line) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "ipset"));
        argv.addAll(Arrays.asList(line.split(" ")));
        return exec(argv);
    }

    private String[] modnet(String line) {
        try {
            List<String> out = ours.run(Arrays.asList(line.split(" ")), List.of());
            return new String[] { "0", out.isEmpty() ? "" : String.join("\n", out) + "\n" };
        } catch (CommandException e) {
            return new String[] { Integer.toString(e.status()), e.getMessage() + "\n" };
        }
    }

    /** Linux's own parts left out: initval, the memory size, and a hash's member order (sorted). */
    private static List<String> comparable(String out) {
        List<String> lines = new ArrayList<>();
        List<String> members = new ArrayList<>();
        for (String l : out.split("\n")) {
            l = l.replaceAll(" initval 0x[0-9a-f]+", "");
            if (l.startsWith("Size in memory: ")) {
                continue;
            }
            if (l.startsWith("add ") || !l.isEmpty() && Character.isDigit(l.charAt(0))) {
                members.add(l);
                continue;
            }
            members.sort(null);
            lines.addAll(members);
            members.clear();
            lines.add(l);
        }
        members.sort(null);
        lines.addAll(members);
        return lines;
    }

    @BeforeEach
    void makeNamespace() throws Exception {
        assumeTrue(have("ipset"), "ipset is not installed (apt-get install ipset)");
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for a network namespace");
        assumeTrue(exec(List.of("ip", "netns", "add", ns))[0].equals("0"), "cannot make a namespace");
        made = true;
    }

    @AfterEach
    void removeNamespace() throws Exception {
        if (made) {
            exec(List.of("ip", "netns", "exec", ns, "ipset", "destroy"));
            exec(List.of("ip", "netns", "del", ns));
        }
    }

    @Test
    void listAndSaveAreLinuxs() throws Exception {
        for (String c : COMMANDS) {
            String[] l = linux(c);
            assertEquals("0", l[0], c + ": " + l[1]);
            assertEquals(l[0], modnet(c)[0], c);
        }
        for (String show : new String[] { "list", "list -t", "list -n", "save", "list b", "save d" }) {
            assertEquals(comparable(linux(show)[1]), comparable(modnet(show)[1]), "ipset " + show);
        }
    }

    @Test
    void errorsAreLinuxs() throws Exception {
        for (String c : COMMANDS) {
            linux(c);
            modnet(c);
        }
        for (String e : ERRORS) {
            String[] l = linux(e);
            assertEquals(l[1], modnet(e)[1], "ipset " + e);
            assertEquals(l[0], modnet(e)[0], "ipset " + e + "'s status");
        }
    }
}
