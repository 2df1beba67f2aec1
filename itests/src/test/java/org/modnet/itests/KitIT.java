package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetCore;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Issue 15's module kit on a real Felix: modules made with {@code bin/modnet-new-module}, built out of
 * tree by a nested offline Maven build (each in a temporary copy, nothing installed into a repository),
 * installed into the running stack, exercised, and uninstalled. The two examples of kit/examples: the
 * VXLAN driver carries ping and TCP between two namespaces; Westwood+ shows in
 * {@code tcp_available_congestion_control} and carries transfers chosen by sysctl and by TCP_CONGESTION.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class KitIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = java.util.Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    /** {@code mvn -o package} in {@code dir} against this checkout; the bundle it made. */
    private static Path build(Path dir, String bsn) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("mvn", "-B", "-ntp", "-o", "-q", "package",
                "-Dmodnet.home=" + ModnetRuntime.root()).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("build.log").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("MAVEN_OPTS", "--sun-misc-unsafe-memory-access=allow");
        long start = System.nanoTime();
        Process p = pb.start();
        assertTrue("mvn took over 5 minutes", p.waitFor(300, TimeUnit.SECONDS));
        String log = Files.readString(dir.resolve("build.log"));
        assertEquals("mvn -o package in " + dir + ":\n" + log, 0, p.exitValue());
        System.out.printf("kit: built %s out of tree in %.1f s%n", bsn, (System.nanoTime() - start) / 1e9);
        if (bsn.equals("all")) {
            return dir;
        }
        Path jar = dir.resolve("target/" + bsn + ".jar");
        assertTrue(jar + " was not made", Files.isRegularFile(jar));
        return jar;
    }

    /** A copy of kit/examples/NAME in a temporary directory, so the checkout gets no target/. */
    private static Path example(String name) throws IOException {
        Path src = ModnetRuntime.root().resolve("kit/examples/" + name);
        Path dst = Files.createTempDirectory("modnet-kit-").resolve(name);
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                Path rel = src.relativize(f);
                if (rel.startsWith("target")) {
                    continue;
                }
                Path to = dst.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        return dst;
    }

    private Bundle install(Path jar) throws Exception {
        Bundle b = context.installBundle(jar.toUri().toString());
        b.start();
        assertEquals(Bundle.ACTIVE, b.getState());
        return b;
    }

    private String sh(String ns, String line) throws Exception {
        return ModnetRuntime.run(processor, ns, line);
    }

    /** Polls a shell line until its output contains {@code want}, for up to 10 s (DS activates asynchronously). */
    private String await(String ns, String line, String want) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String out;
        do {
            out = ModnetRuntime.runCapturing(processor, ns, line);
            if (out.contains(want)) {
                return out;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        throw new AssertionError(line + " never showed \"" + want + "\": " + out);
    }

    private static int check(int ret) {
        assertTrue("system call failed: " + SocketCalls.strerror(ret), ret >= 0);
        return ret;
    }

    /**
     * {@code bytes} from a client in {@code from} to a server at {@code server} in {@code to}; the
     * server's sha-256 must be the client's. {@code beforeConnect} may set options on the client socket.
     */
    private void transfer(Sockets sockets, String from, String to, SockAddr server, int bytes,
            java.util.function.IntConsumer beforeConnect, Runnable midway) throws Exception {
        SocketCalls srv = sockets.process("kit-server", to);
        int lfd = check(srv.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0));
        check(srv.setsockopt(lfd, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1));
        check(srv.bind(lfd, server));
        check(srv.listen(lfd, 4));
        java.util.concurrent.Executor own = r -> Thread.ofPlatform().daemon().start(r);
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try {
                int fd = check(srv.accept(lfd, null, 0));
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                ByteBuffer buf = ByteBuffer.allocate(65536);
                long got = 0;
                while (got < bytes) {
                    buf.clear();
                    int n = srv.recv(fd, buf, 0);
                    if (n <= 0) {
                        throw new AssertionError("recv after " + got + " bytes: " + SocketCalls.strerror(n));
                    }
                    sha.update(buf.array(), 0, n);
                    got += n;
                }
                srv.close(fd);
                return sha.digest();
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }, own);
        SocketCalls cli = sockets.process("kit-client", from);
        int fd = check(cli.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0));
        beforeConnect.accept(fd);
        check(cli.connect(fd, server));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        java.util.Random random = new java.util.Random(42);
        byte[] chunk = new byte[16384];
        for (int sent = 0; sent < bytes; sent += chunk.length) {
            random.nextBytes(chunk);
            int n = Math.min(chunk.length, bytes - sent);
            sha.update(chunk, 0, n);
            ByteBuffer b = ByteBuffer.wrap(chunk, 0, n);
            while (b.hasRemaining()) {
                check(cli.send(fd, b, 0));
            }
            if (sent == bytes / 2 && midway != null) {
                midway.run();
            }
        }
        assertArrayEquals("the server got every byte, in order", sha.digest(), received.get(60, TimeUnit.SECONDS));
        cli.close(fd);
        srv.close(lfd);
    }

    private static String congestion(SocketCalls calls, int fd) {
        int[] w = new int[4];
        return TcpCongestion.name(w, check(calls.getsockopt(fd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, w)));
    }

    private long nstat(String ns, String name) throws Exception {
        for (String line : sh(ns, "nstat -az " + name).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[0].equals(name)) {
                return Long.parseLong(w[1]);
            }
        }
        throw new AssertionError("nstat has no " + name);
    }

    private static void generate(Path dir, String type, String name) throws Exception {
        Processes.Result gen = Processes.run(ModnetRuntime.root().resolve("bin/modnet-new-module").toString(), type, name,
                dir.resolve(name).toString());
        assertEquals(gen.toString(), 0, gen.status());
        for (String f : List.of("pom.xml", "bnd.bnd", "README.md")) {
            assertTrue(type + ": " + f + " generated", Files.isRegularFile(dir.resolve(name).resolve(f)));
        }
    }

    /**
     * Every template, generated and built (one offline Maven run over the four projects, each with its
     * unit test), installed into the running stack, seen working, and uninstalled.
     */
    @Test
    public void generatedModulesOfEveryTypeBuildOfflineLoadRunAndUnload() throws Exception {
        features.install("host");
        Path dir = Files.createTempDirectory("modnet-kit-");
        generate(dir, "command", "hello");
        generate(dir, "driver", "dummy");
        generate(dir, "congestion", "demo");
        generate(dir, "protocol", "exp");
        assertTrue(Files.isRegularFile(dir.resolve("hello/src/main/java/org/modnet/cmd/hello/HelloCommand.java")));
        assertTrue(Files.isRegularFile(dir.resolve("dummy/src/test/java/org/modnet/drivers/dummy/DummyDriverTest.java")));
        assertTrue(Files.isRegularFile(dir.resolve("demo/src/main/java/org/modnet/tcp_demo/Demo.java")));
        assertTrue(Files.isRegularFile(dir.resolve("exp/src/main/java/org/modnet/exp/ExpProtocol.java")));
        Files.writeString(dir.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>kit.test</groupId><artifactId>all</artifactId><version>1</version><packaging>pom</packaging>
                  <modules><module>hello</module><module>dummy</module><module>demo</module><module>exp</module></modules>
                </project>
                """);
        build(dir, "all");
        for (String m : List.of("hello", "dummy", "demo", "exp")) {
            assertTrue(m + "'s unit test ran", Files.isDirectory(dir.resolve(m + "/target/surefire-reports")));
        }
        Bundle hello = install(dir.resolve("hello/target/org.modnet.cmd.hello.jar"));
        Bundle dummy = install(dir.resolve("dummy/target/org.modnet.drivers.dummy.jar"));
        Bundle demo = install(dir.resolve("demo/target/org.modnet.tcp_demo.jar"));
        Bundle exp = install(dir.resolve("exp/target/org.modnet.exp.jar"));
        assertThat(await(null, "hello modnet", "hello: modnet"), containsString("hello: modnet"));
        ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=dummy)");
        sh(null, "ip link add d0 type dummy");
        assertThat(sh(null, "ip link show d0"), containsString("d0:"));
        await(null, "sysctl net.ipv4.tcp_available_congestion_control", "= reno cubic bbr demo");
        ModnetRuntime.service(context, org.modnet.api.inet.InetProtocol.class, "(modnet.ipproto=253)");
        for (Bundle b : List.of(hello, dummy, demo, exp)) {
            b.uninstall();
        }
        assertThat(ModnetRuntime.runCapturing(processor, null, "hello modnet"), containsString("failed"));
        assertThat("the driver's device went with it", ModnetRuntime.runCapturing(processor, null, "ip link show d0"),
                not(containsString("d0:")));
        assertThat(sh(null, "sysctl net.ipv4.tcp_available_congestion_control"), containsString("= reno cubic bbr\n"));
    }

    @Test
    public void westwoodIsListedCarriesTransfersAndItsConnectionsFallBackToRenoWhenUnloaded() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        ModnetRuntime.vethPair(context, core);
        assertThat(sh("ns1", "sysctl net.ipv4.tcp_available_congestion_control"), containsString("= reno cubic bbr\n"));
        Bundle ww = install(build(example("westwood"), "org.modnet.tcp_westwood"));
        await("ns1", "sysctl net.ipv4.tcp_available_congestion_control", "= reno cubic bbr westwood");
        await("ns2", "sysctl net.ipv4.tcp_available_congestion_control", "= reno cubic bbr westwood");

        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "sysctl -w net.ipv4.tcp_congestion_control=vegas"),
                containsString("sysctl: setting key \"net.ipv4.tcp_congestion_control\": No such file or directory"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "sysctl -w net.ipv4.tcp_available_congestion_control=reno"),
                containsString("sysctl: permission denied on key \"net.ipv4.tcp_available_congestion_control\""));
        // by sysctl: the namespace's default
        sh("ns1", "sysctl -w net.ipv4.tcp_congestion_control=westwood");
        SockAddr server = new SockAddr(0x0a000002, 7100);
        String[] seen = new String[1];
        transfer(sockets, "ns1", "ns2", server, 4 << 20, fd -> { }, () -> seen[0] = unchecked(() -> sh("ns1", "ss -tin")));
        assertThat("ss -i names the algorithm", seen[0], containsString("westwood"));

        // by TCP_CONGESTION on a socket, with the default back at reno (westwood stays allowed)
        sh("ns1", "sysctl -w net.ipv4.tcp_congestion_control=reno");
        String allowed = sh("ns1", "sysctl net.ipv4.tcp_allowed_congestion_control");
        assertThat(allowed, containsString("reno cubic"));
        assertThat(allowed, containsString("westwood"));
        SocketCalls probe = sockets.process("probe", "ns1");
        transfer(sockets, "ns1", "ns2", new SockAddr(0x0a000002, 7101), 1 << 20, fd -> {
        }, null);
        int pfd = check(probe.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0));
        assertEquals("reno", congestion(probe, pfd));
        check(probe.setsockopt(pfd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("westwood")));
        assertEquals("westwood", congestion(probe, pfd));
        assertEquals(-org.modnet.api.net.Errno.ENOENT.number(),
                probe.setsockopt(pfd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("vegas")));
        probe.close(pfd);

        // updated mid-transfer (stopped, then started again from its jar): the connection falls back to reno
        // for the moment between the versions and returns to westwood, and the transfer completes
        sh("ns1", "sysctl -w net.ipv4.tcp_congestion_control=westwood");
        String[] after = new String[1];
        transfer(sockets, "ns1", "ns2", new SockAddr(0x0a000002, 7103), 4 << 20, fd -> { }, () -> unchecked(() -> {
            ww.update();
            after[0] = await("ns1", "ss -tin dst 10.0.0.2:7103", "westwood");
            return null;
        }));
        assertThat(after[0], containsString("westwood"));
        assertEquals(Bundle.ACTIVE, ww.getState());
        assertThat("the default came back with it", sh("ns1", "sysctl net.ipv4.tcp_congestion_control"), containsString("= westwood\n"));

        // rmmod refuses while connections use it, as Linux; uninstalled mid-transfer anyway, the connection
        // moves to reno, counted, and the transfer completes
        long fallback = nstat("ns1", "TcpExtTCPCongestionFallback");
        String[] refused = new String[2];
        transfer(sockets, "ns1", "ns2", new SockAddr(0x0a000002, 7102), 4 << 20, fd -> { }, () -> unchecked(() -> {
            refused[0] = ModnetRuntime.runCapturing(processor, null, "lsmod");
            refused[1] = ModnetRuntime.runCapturing(processor, null, "rmmod tcp_westwood");
            ww.uninstall();
            return null;
        }));
        assertThat(refused[1], containsString("Module tcp_westwood is in use"));
        assertThat(refused[0], containsString("org.modnet.tcp_westwood"));
        assertTrue("the moved connection is counted", nstat("ns1", "TcpExtTCPCongestionFallback") > fallback);
        assertThat(sh("ns1", "sysctl net.ipv4.tcp_available_congestion_control"), containsString("= reno cubic bbr\n"));
        assertThat(sh("ns1", "sysctl net.ipv4.tcp_congestion_control"), containsString("= reno\n"));
    }

    @Test
    public void vxlanCarriesPingAndTcpBetweenTwoNamespacesAndGoesWithItsBundle() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        Sockets sockets = ModnetRuntime.service(context, Sockets.class, null);
        ModnetRuntime.vethPair(context, core);
        Bundle vx = install(build(example("vxlan"), "org.modnet.drivers.vxlan"));
        ModnetRuntime.service(context, LinkFactory.class, "(modnet.link.kind=vxlan)");
        sh("ns1", "ip link add vx0 type vxlan id 42 remote 10.0.0.2 dstport 4789 dev veth0");
        sh("ns1", "ip addr add 192.168.42.1/24 dev vx0");
        sh("ns1", "ip link set vx0 up");
        sh("ns2", "ip link add vx0 type vxlan id 42 remote 10.0.0.1 dstport 4789 dev veth1");
        sh("ns2", "ip addr add 192.168.42.2/24 dev vx0");
        sh("ns2", "ip link set vx0 up");
        assertThat(sh("ns1", "ip -d link show vx0"), containsString("mtu 1450"));
        long udpIn = nstat("ns2", "UdpInDatagrams");
        assertThat(sh("ns1", "ping -c 3 -W 2 192.168.42.2"), containsString("3 received"));
        assertTrue("the tunnel's datagrams reached ns2's UDP", nstat("ns2", "UdpInDatagrams") >= udpIn + 3);
        transfer(sockets, "ns1", "ns2", new SockAddr(0xc0a82a02, 7200), 2 << 20, fd -> { }, null);
        String stats = sh("ns1", "ip -s link show vx0");
        assertThat(stats, containsString("RX:"));
        assertThat("a bad address is refused in iproute2's words",
                ModnetRuntime.runCapturing(processor, "ns1", "ip link add vx1 type vxlan remote 10.0.0.2"),
                containsString("missing virtual network identifier"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "rmmod vxlan"), containsString("Module vxlan is in use"));
        vx.uninstall();
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ip link show vx0"), not(containsString("vx0:")));
        assertThat(sh("ns1", "ping -c 1 -W 1 10.0.0.2"), containsString("1 received"));
    }

    private interface Call<T> {
        T call() throws Exception;
    }

    private static <T> T unchecked(Call<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
