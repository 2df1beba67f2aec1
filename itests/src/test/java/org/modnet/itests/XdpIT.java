package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * XDP on a real Felix: xdp_drop_icmp, built by Debian's clang from its C source, attached with
 * {@code ip link set dev veth1 xdp obj FILE sec xdp} in ns2: ping from ns1 fails and the XDP drop
 * counter moves, {@code ip link} shows the program, and {@code xdp off} brings ping back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class XdpIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void twoNamespaces() throws Exception {
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.net.XdpLoader.class, null);
        NetDevice[] pair = ModnetRuntime.vethPair(context, core);
        NetDevice a = pair[0];
        NetDevice b = pair[1];
        NetNamespace ns1 = a.namespace();
        NetNamespace ns2 = b.namespace();
    }

    private static Path object() throws Exception {
        return object("xdp_drop_icmp");
    }

    /** The object built with clang into itests/target, or the test skips when clang is not installed. */
    private static Path object(String name) throws Exception {
        boolean clang = java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        assumeTrue("needs clang and libbpf-dev (.ci/run installs them)", clang);
        Path src = ModnetRuntime.root().resolve("bundles/ebpf/src/test/resources/bpf/" + name + ".c");
        Path out = ModnetRuntime.root().resolve("itests/target/" + name + ".o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals("clang: " + log, 0, p.waitFor());
        return out;
    }

    private long xdpDrops() throws Exception {
        return counter("veth1", "xdp_drop");
    }

    @Test
    public void xdpDropIcmpFromClangDropsPingUntilDetached() throws Exception {
        Path obj = object();
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp");
        String link = ModnetRuntime.run(processor, "ns2", "ip link show veth1");
        assertThat("veth runs it natively, as Linux's veth does", link, containsString(" xdp "));
        assertThat(link, containsString("prog/xdp id "));
        assertThat(link, containsString("name xdp_drop_icmp jited"));

        String ping = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2");
        assertThat(ping, containsString("2 packets transmitted, 0 received"));
        assertTrue("the XDP drop counter moved", xdpDrops() >= 2);
        assertThat("ARP still passes", ModnetRuntime.run(processor, "ns1", "ip neigh"), containsString("10.0.0.2"));

        // bpftool sees the program, its map and where it is attached
        assertThat(ModnetRuntime.run(processor, "bpftool prog show"), containsString("name xdp_drop_icmp  jited"));
        assertThat(ModnetRuntime.run(processor, "ns2", "bpftool net show"), containsString("veth1("));
        String maps = ModnetRuntime.run(processor, "bpftool map show");
        String mapLine = maps.lines().filter(l -> l.contains("name drops")).findFirst().orElseThrow(() -> new AssertionError(maps));
        String mapId = mapLine.substring(0, mapLine.indexOf(':'));
        assertThat(mapLine, containsString("array"));
        String dump = ModnetRuntime.run(processor, "bpftool map dump id " + mapId);
        assertThat(dump, containsString("key: 00 00 00 00  value: "));
        assertThat(dump, org.hamcrest.CoreMatchers.not(containsString("value: 00 00 00 00 00 00 00 00")));
        ModnetRuntime.run(processor, "bpftool map update id " + mapId + " key 0 0 0 0 value 0 0 0 0 0 0 0 0");
        assertThat(ModnetRuntime.run(processor, "bpftool map lookup id " + mapId + " key 0 0 0 0"),
                containsString("value: 00 00 00 00 00 00 00 00"));
        String progId = ModnetRuntime.run(processor, "bpftool prog show").lines().filter(l -> l.contains("xdp_drop_icmp")).findFirst()
                .orElseThrow().split(":")[0];
        assertThat(ModnetRuntime.run(processor, "bpftool prog dump xlated id " + progId), containsString("call 1"));

        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp off");
        assertThat(ModnetRuntime.run(processor, "ns2", "ip link show veth1"), org.hamcrest.CoreMatchers.not(containsString("prog/xdp")));
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        assertThat("detached: unloaded", ModnetRuntime.run(processor, "bpftool prog show"),
                org.hamcrest.CoreMatchers.not(containsString("xdp_drop_icmp")));
    }

    /** A bundle's jar from the repo, rebuilt: the same classes, a manifest with {@code header: value} set (a different jar). */
    private static Path rebuilt(String bsn, String header, String value) throws Exception {
        Path jar = ModnetRuntime.root().resolve("run-configs/target/repo/" + bsn + "-0.1.0-SNAPSHOT.jar");
        Path out = Files.createTempFile(bsn + "-rebuilt", ".jar");
        try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(Files.newInputStream(jar))) {
            java.util.jar.Manifest mf = new java.util.jar.Manifest(in.getManifest());
            mf.getMainAttributes().putValue(header, value);
            try (java.util.jar.JarOutputStream o = new java.util.jar.JarOutputStream(Files.newOutputStream(out), mf)) {
                for (java.util.jar.JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new java.util.jar.JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
            }
        }
        return out;
    }

    /** One UDP frame veth0 -> veth1 (10.0.0.1 -> 10.0.0.2 port 9), sent by veth0's driver: what xdp_count drops. */
    private static boolean sendUdp(NetCore core, NetDevice from, NetDevice to) {
        org.modnet.api.skb.SkBuff skb = core.allocSkb(14 + 20 + 8 + 4, 64);
        if (skb == null) {
            return false;
        }
        int o = skb.put(14 + 20 + 8 + 4);
        for (int i = 0; i < 46; i += 2) {
            skb.setU16(o + i, 0);
        }
        long dst = to.address().bits();
        long src = from.address().bits();
        skb.setU16(o, (int) (dst >>> 32));
        skb.setU32(o + 2, (int) dst);
        skb.setU16(o + 6, (int) (src >>> 32));
        skb.setU32(o + 8, (int) src);
        skb.setU16(o + 12, org.modnet.api.net.Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 32);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 17);
        skb.setU32(h + 12, 0x0a000001);
        skb.setU32(h + 16, 0x0a000002);
        skb.setU16(h + 22, 9);
        skb.setU16(h + 24, 12);
        skb.dev(from);
        skb.protocol(org.modnet.api.net.Eth.ETH_P_IP);
        core.devQueueXmit(skb);
        return true;
    }

    private static String idOf(String line) {
        return line.substring(0, line.indexOf(':')).trim();
    }

    /** The 8-byte little-endian value {@code bpftool map lookup} prints for key 0 0 0 0. */
    private long slot0(String mapId) throws Exception {
        String out = ModnetRuntime.run(processor, "bpftool map lookup id " + mapId + " key 0 0 0 0");
        String[] b = out.substring(out.indexOf("value:") + 6).trim().split("\\s+");
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | Long.parseLong(b[i], 16);
        }
        return v;
    }

    /**
     * Issue 15: {@code update ebpf FILE} (a rebuilt jar) while a flood of UDP frames crosses a veth whose
     * XDP program counts them. The xdp bundle is not refreshed; the program stays attached under its id
     * (the old version's running until the adopted one replaces it), the map's count equals the frames the
     * hook saw (none lost between the versions), the pins still resolve, bpftool lists the same ids.
     */
    @Test
    public void updatingTheEbpfBundleUnderAFloodKeepsTheProgramItsIdItsMapsAndTheirCounts() throws Exception {
        Path obj = object("xdp_count");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        NetDevice veth0 = core.namespace("ns1").device("veth0");
        NetDevice veth1 = core.namespace("ns2").device("veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received")); // ARP resolved
        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp");
        String progLine = ModnetRuntime.run(processor, "bpftool prog show").lines().filter(l -> l.contains("name xdp_count")).findFirst()
                .orElseThrow();
        String progId = idOf(progLine);
        String maps = ModnetRuntime.run(processor, "bpftool map show");
        String framesId = idOf(maps.lines().filter(l -> l.contains("name frames")).findFirst().orElseThrow(() -> new AssertionError(maps)));
        String protoId = idOf(maps.lines().filter(l -> l.contains("name by_proto")).findFirst().orElseThrow(() -> new AssertionError(maps)));
        ModnetRuntime.run(processor, "bpftool prog pin id " + progId + " /sys/fs/bpf/xdp_count");
        ModnetRuntime.run(processor, "bpftool map pin id " + framesId + " /sys/fs/bpf/frames");
        org.osgi.framework.Bundle ebpf = ModnetRuntime.bundleNamed(context, "org.modnet.ebpf");
        org.osgi.framework.Bundle xdp = ModnetRuntime.bundleNamed(context, "org.modnet.xdp");
        org.osgi.framework.wiring.BundleWiring xdpWiring = xdp.adapt(org.osgi.framework.wiring.BundleWiring.class);
        org.osgi.framework.wiring.BundleRevision oldRevision = ebpf.adapt(org.osgi.framework.wiring.BundleRevision.class);
        Path jar = rebuilt("org.modnet.ebpf", "Modnet-Rebuilt", "xdp hand-over test");

        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        Thread flood = Thread.ofPlatform().daemon().start(() -> {
            while (!stop.get()) {
                if (sendUdp(core, veth0, veth1)) {
                    sent.incrementAndGet();
                }
                if (sent.get() % 16 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                }
            }
        });
        Thread.sleep(500);
        long sentBefore = sent.get();
        long t0 = System.nanoTime();
        String out = ModnetRuntime.run(processor, "update ebpf " + jar);
        long t1 = System.nanoTime();
        long sentDuring = sent.get() - sentBefore;
        ModnetRuntime.service(context, org.modnet.api.net.XdpLoader.class, null);
        Thread.sleep(500);
        stop.set(true);
        flood.join(10_000);
        Thread.sleep(300); // the last frames drain

        assertTrue("a new revision of the ebpf bundle: " + out, oldRevision != ebpf.adapt(org.osgi.framework.wiring.BundleRevision.class));
        assertEquals(org.osgi.framework.Bundle.ACTIVE, ebpf.getState());
        assertTrue("the xdp bundle was not refreshed", xdpWiring.isCurrent());
        String link = ModnetRuntime.run(processor, "ns2", "ip link show veth1");
        assertThat("still attached, under the same id", link, containsString("prog/xdp id " + progId + " "));
        assertThat(link, containsString("name xdp_count jited"));
        long seen = counter("veth1", "xdp_drop") + counter("veth1", "xdp_pass");
        long counted = slot0(framesId);
        System.out.printf("ebpf updated under an XDP flood: sent %d (%d before the update, %d during it, %d after), the hook ran %d times,"
                + " the map counted %d; update took %.1f ms%n", sent.get(), sentBefore, sentDuring, sent.get() - sentBefore - sentDuring, seen,
                counted, (t1 - t0) / 1e6);
        assertTrue("frames sent during the update", sentDuring > 0);
        assertTrue("frames sent after the update", sent.get() - sentBefore - sentDuring > 0);
        assertEquals("every run counted in the map, across both versions", seen, counted);
        assertThat("the pin names the adopted program", ModnetRuntime.run(processor, "bpftool prog show pinned /sys/fs/bpf/xdp_count"),
                containsString(progId + ": xdp  name xdp_count"));
        assertThat(ModnetRuntime.run(processor, "bpftool map show pinned /sys/fs/bpf/frames"), containsString(framesId + ": array  name frames"));
        String show = ModnetRuntime.run(processor, "bpftool map show");
        assertThat(show, containsString(framesId + ": array  name frames"));
        assertThat(show, containsString(protoId + ": hash  name by_proto"));
        String dump = ModnetRuntime.run(processor, "bpftool map dump id " + protoId);
        assertThat("the hash map kept its entries: IPv4 (08 00) frames counted", dump, containsString("key: 08 00 00 00  value: "));
        long byProto = 0;
        for (String l : dump.lines().filter(l -> l.startsWith("key: ")).toList()) {
            String[] b = l.substring(l.indexOf("value:") + 6).trim().split("\\s+");
            for (int i = 7; i >= 0; i--) {
                byProto += Long.parseLong(b[i], 16) << (8 * i);
            }
        }
        assertEquals("the hash map's entries, adopted with its storage, add up to every frame: " + dump, counted, byProto);
        assertThat(ModnetRuntime.run(processor, "bpftool map dump id " + framesId), containsString("key: 00 00 00 00  value: "));

        // a plain stop still detaches and unloads; a start begins empty
        ebpf.stop();
        assertThat("stopped: the program is off the device", ModnetRuntime.run(processor, "ns2", "ip link show veth1"),
                org.hamcrest.CoreMatchers.not(containsString("prog/xdp")));
        ebpf.start();
        ModnetRuntime.service(context, org.modnet.api.net.XdpLoader.class, null);
        Thread.sleep(200);
        assertThat(ModnetRuntime.run(processor, "bpftool prog show"), org.hamcrest.CoreMatchers.not(containsString("xdp_count")));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog show pinned /sys/fs/bpf/xdp_count"),
                containsString("No such file or directory"));
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
    }

    @Test
    public void aMissingFileOrSectionIsAClearError() throws Exception {
        Path obj = object();
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "ip link set dev veth1 xdp obj /nonexistent.o"),
                containsString("No such file or directory"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec tc"),
                containsString("No program in section \"tc\""));
    }

    @Test
    public void bpftoolLoadsAndPinsAProgramThatOutlivesItsAttachmentUntilUnpinned() throws Exception {
        Path obj = object();
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/drop_icmp pinmaps /sys/fs/bpf/drop_maps");
        String show = ModnetRuntime.run(processor, "bpftool prog show pinned /sys/fs/bpf/drop_icmp");
        assertThat(show, containsString("name xdp_drop_icmp  jited"));
        assertThat(show, containsString("pinned /sys/fs/bpf/drop_icmp"));
        assertThat(ModnetRuntime.run(processor, "bpftool map show pinned /sys/fs/bpf/drop_maps/drops"), containsString("name drops"));

        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/drop_icmp dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns2", "bpftool net show"), containsString("veth1("));
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2"),
                containsString("2 packets transmitted, 0 received"));
        assertThat("a second attach without overwrite is refused",
                ModnetRuntime.runCapturing(processor, "ns2", "bpftool net attach xdp name xdp_drop_icmp dev veth1"),
                containsString("Device or resource busy"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "bpftool net attach xdpoffload pinned /sys/fs/bpf/drop_icmp dev veth1 overwrite"),
                containsString("Operation not supported"));
        String dump = ModnetRuntime.run(processor, "bpftool map dump pinned /sys/fs/bpf/drop_maps/drops");
        assertThat("the pinned map is the attached program's", dump,
                org.hamcrest.CoreMatchers.not(containsString("value: 00 00 00 00 00 00 00 00")));

        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        assertThat("detached but pinned: still loaded", ModnetRuntime.run(processor, "bpftool prog show"),
                containsString("xdp_drop_icmp"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "rm /sys/fs/bpf/drop_maps"), containsString("Is a directory"));
        ModnetRuntime.run(processor, "rm /sys/fs/bpf/drop_icmp");
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/drop_maps");
        assertThat("unpinned: unloaded", ModnetRuntime.run(processor, "bpftool prog show"),
                org.hamcrest.CoreMatchers.not(containsString("xdp_drop_icmp")));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog show pinned /sys/fs/bpf/drop_icmp"),
                containsString("No such file or directory"));
    }

    @Test
    public void bpftoolLoadsASocketFilterByTypeOrSectionAndShowsItAsSocketFilter() throws Exception {
        Path obj = object("socket_count");
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/sock type socket pinmaps /sys/fs/bpf/sock_maps");
        String show = ModnetRuntime.run(processor, "bpftool prog show pinned /sys/fs/bpf/sock");
        assertThat(show, containsString(": socket_filter  name count_all  jited"));
        assertThat(show, containsString("map_ids "));
        assertThat(ModnetRuntime.run(processor, "bpftool map show pinned /sys/fs/bpf/sock_maps/seen"), containsString("name seen"));
        // without 'type', SEC("socket") says what it is, as libbpf guesses it
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/sock_guessed");
        assertThat(ModnetRuntime.run(processor, "bpftool prog show pinned /sys/fs/bpf/sock_guessed"), containsString(": socket_filter  name count_all"));
        assertThat("a socket filter is no XDP program", ModnetRuntime.runCapturing(processor, "ns2",
                "bpftool net attach xdp pinned /sys/fs/bpf/sock dev veth1"), containsString("invalid program type socket_filter for xdp"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog load " + obj + " /sys/fs/bpf/sock_k type kprobe"),
                containsString("program type 'kprobe' is not supported"));
        ModnetRuntime.run(processor, "rm /sys/fs/bpf/sock");
        ModnetRuntime.run(processor, "rm /sys/fs/bpf/sock_guessed");
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/sock_maps");
        assertThat("unpinned: unloaded", ModnetRuntime.run(processor, "bpftool prog show"),
                org.hamcrest.CoreMatchers.not(containsString("count_all")));
    }

    @Test
    public void bpftoolRefusesBadPathsObjectsAndSpecs() throws Exception {
        Path obj = object();
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog load " + obj + " /tmp/drop"),
                containsString("not a bpf file system path"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog load /nonexistent.o /sys/fs/bpf/x"),
                containsString("failed to open object file"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog load " + obj + " /sys/fs/bpf/x type tc"),
                containsString("not supported"));
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/x");
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog load " + obj + " /sys/fs/bpf/x"), containsString("File exists"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool map show pinned /sys/fs/bpf/x"), containsString("incorrect object type"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog show id 99999"), containsString("No such file or directory"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/x dev nosuch"),
                containsString("invalid devname nosuch"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "rm /etc/passwd"), containsString("only pinned objects under /sys/fs/bpf"));
        // prog run (BPF_PROG_TEST_RUN): the program on a frame from a file
        byte[] frame = new byte[60];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 1; // ICMP
        Path icmp = Files.createTempFile("frame", ".bin");
        Files.write(icmp, frame);
        frame[23] = 17; // UDP
        Path udp = Files.createTempFile("frame", ".bin");
        Files.write(udp, frame);
        Path out = Files.createTempFile("frame", ".out");
        assertThat(ModnetRuntime.run(processor, "bpftool prog run pinned /sys/fs/bpf/x data_in " + icmp + " repeat 1000"),
                containsString("Return value: 1, duration (average): "));
        assertThat(ModnetRuntime.run(processor, "bpftool prog run pinned /sys/fs/bpf/x data_in " + udp + " data_out " + out),
                containsString("Return value: 2, duration: "));
        assertEquals(60, Files.size(out));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool prog run pinned /sys/fs/bpf/x data_in /nonexistent"),
                containsString("failed to open"));
        ModnetRuntime.run(processor, "rm /sys/fs/bpf/x");
        // loadall: every program of the object, each pinned under the directory by its name
        ModnetRuntime.run(processor, "bpftool prog loadall " + obj + " /sys/fs/bpf/every");
        assertThat(ModnetRuntime.run(processor, "bpftool prog show pinned /sys/fs/bpf/every/xdp_drop_icmp"),
                containsString("name xdp_drop_icmp"));
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/every");
        assertThat("one program loaded twice, both unpinned: none left", ModnetRuntime.run(processor, "bpftool prog show"),
                org.hamcrest.CoreMatchers.not(containsString("xdp_drop_icmp")));
    }

    @Test
    public void aRingBufferCarriesOneRecordPerIpv4FrameToBpftoolEventPipe() throws Exception {
        Path obj = object("ringbuf_events");
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/log_ipv4 pinmaps /sys/fs/bpf/log");
        assertThat(ModnetRuntime.run(processor, "bpftool map show pinned /sys/fs/bpf/log/events"),
                containsString("ringbuf  name events"));
        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/log_ipv4 dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 2 -i 0.2 -W 2 10.0.0.2"), containsString("2 received"));
        String events = ModnetRuntime.run(processor, "bpftool map event_pipe pinned /sys/fs/bpf/log/events count 2");
        assertEquals(events, 2, events.lines().filter(l -> l.contains("ringbuf: 8 bytes")).count());
        assertThat("10.0.0.1, 98 bytes (0x62), ICMP", events, containsString("0a 00 00 01 62 00 01 00"));
        assertThat(ModnetRuntime.runCapturing(processor, null, "bpftool map dump pinned /sys/fs/bpf/log/events"),
                containsString("can't dump map of type ringbuf"));
        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/log /sys/fs/bpf/log_ipv4");
    }

    /**
     * bpf_trace_printk from an attached program (global_data: "frame %d" per frame) lands in the
     * instance's trace buffer: {@code cat /sys/kernel/tracing/trace} shows it, {@code bpftool prog
     * tracelog} takes it until interrupted, after which the buffer no longer holds it.
     */
    @Test
    public void aPerfEventArrayCarriesOneRecordPerIpv4FrameToBpftoolEventPipe() throws Exception {
        Path obj = object("perf_events");
        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/perf_ipv4 pinmaps /sys/fs/bpf/perf");
        assertThat(ModnetRuntime.run(processor, "bpftool map show pinned /sys/fs/bpf/perf/events"),
                containsString("perf_event_array  name events"));
        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/perf_ipv4 dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 2 -i 0.2 -W 2 10.0.0.2"), containsString("2 received"));
        String events = ModnetRuntime.run(processor, "bpftool map event_pipe pinned /sys/fs/bpf/perf/events count 2");
        assertEquals(events, 2, events.lines().filter(l -> l.contains("perf_event_array: 8 bytes")).count());
        assertThat("10.0.0.1, 98 bytes (0x62), ICMP", events, containsString("0a 00 00 01 62 00 01 00"));
        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/perf /sys/fs/bpf/perf_ipv4");
    }

    @Test
    public void tracePrintkLinesAreReadFromTheTraceFileAndTheTracePipe() throws Exception {
        Path obj = object("global_data");
        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 2 -i 0.2 -W 2 10.0.0.2"), containsString("2 received"));
        String trace = ModnetRuntime.run(processor, "cat /sys/kernel/tracing/trace");
        assertThat(trace, containsString("# tracer: nop"));
        assertThat(trace, containsString("bpf_trace_printk: frame 1"));
        assertThat(trace, containsString("bpf_trace_printk: frame 2"));
        assertThat("the debugfs path is the same file", ModnetRuntime.run(processor, "cat /sys/kernel/debug/tracing/trace"),
                containsString("bpf_trace_printk: frame 2"));

        // the pipe, as a shell runs it: a foreground job that Ctrl-C (the job's interrupt) ends
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        Thread reader = new Thread(() -> {
            try {
                session.execute("bpftool prog tracelog");
            } catch (Exception e) {
                out.println("(ended: " + e + ")");
            }
        });
        reader.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((session.foregroundJob() == null || ModnetRuntime.run(processor, "cat /sys/kernel/tracing/trace").contains("frame 1"))
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        session.foregroundJob().interrupt();
        reader.join(10_000);
        assertFalse("Ctrl-C ended it", reader.isAlive());
        session.close();
        java.util.concurrent.atomic.AtomicReference<String> piped = new java.util.concurrent.atomic.AtomicReference<>(bytes.toString(
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(piped.get(), containsString("bpf_trace_printk: frame 1"));
        assertThat(piped.get(), containsString("bpf_trace_printk: frame 2"));
        assertThat("the pipe took the lines", ModnetRuntime.run(processor, "cat /sys/kernel/tracing/trace"),
                org.hamcrest.CoreMatchers.not(containsString("bpf_trace_printk: frame")));
        ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp off");
    }

    /**
     * xdp_redirect_map.c (clang-built: a devmap of {@code struct bpf_devmap_val}) on veth1: with slot 0
     * empty ping passes; once bpftool puts veth2's ifindex there, ns1's frames leave through veth2 and
     * arrive at its peer veth3, so ping fails. With xdp_count_egress (SEC("xdp/devmap")) named in the
     * entry, it runs on each of those frames and counts them under veth2's ifindex; that program cannot
     * be attached to a device itself.
     */
    @Test
    public void redirectMapMovesFramesToTheDeviceBpftoolPutInTheDevmapThroughItsProgram() throws Exception {
        Path obj = object("xdp_redirect_map");
        ModnetRuntime.run(processor, "ns2", "ip link add veth2 type veth peer name veth3");
        ModnetRuntime.run(processor, "ns2", "ip link set veth2 up");
        ModnetRuntime.run(processor, "ns2", "ip link set veth3 up");
        String veth2 = ModnetRuntime.run(processor, "ns2", "ip link show veth2");
        int ifindex = Integer.parseInt(veth2.substring(0, veth2.indexOf(':')).strip());

        ModnetRuntime.run(processor, "bpftool prog loadall " + obj + " /sys/fs/bpf/redirect pinmaps /sys/fs/bpf/redirect_maps");
        String ports = "pinned /sys/fs/bpf/redirect_maps/tx_port";
        assertThat(ModnetRuntime.run(processor, "bpftool map show " + ports), containsString("devmap  name tx_port"));
        assertThat(ModnetRuntime.run(processor, "bpftool map show " + ports), containsString("key 4B  value 8B"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/redirect/xdp_count_egress dev veth1"),
                containsString("BPF_XDP_DEVMAP programs can not be attached to a device"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp/devmap"),
                containsString("BPF_XDP_DEVMAP programs can not be attached to a device"));
        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/redirect/xdp_redirect_map dev veth1");
        assertThat("slot 0 empty: XDP_PASS", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        long before = counter("veth3", "rx_queue_0_packets");
        ModnetRuntime.run(processor, "bpftool map update " + ports + " key 0 0 0 0 value " + ifindex + " 0 0 0 0 0 0 0");
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2"), containsString("0 received"));
        assertTrue("the frames came out of veth2 into veth3", counter("veth3", "rx_queue_0_packets") >= before + 2);
        assertTrue("veth1 counted the redirects", counter("veth1", "xdp_redirect") >= 2);

        int id = programId("/sys/fs/bpf/redirect/xdp_count_egress");
        assertThat("a program that is not BPF_XDP_DEVMAP is refused", ModnetRuntime.runCapturing(processor, null,
                "bpftool map update " + ports + " key 0 0 0 0 value " + le32(ifindex) + " " + le32(programId("/sys/fs/bpf/redirect/xdp_redirect_map"))),
                containsString("Error: update failed: Invalid argument"));
        ModnetRuntime.run(processor, "bpftool map update " + ports + " key 0 0 0 0 value " + le32(ifindex) + " " + le32(id));
        before = counter("veth3", "rx_queue_0_packets");
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2"), containsString("0 received"));
        assertTrue("xdp_count_egress passed them on", counter("veth3", "rx_queue_0_packets") >= before + 2);
        String counted = ModnetRuntime.run(processor, "bpftool map lookup pinned /sys/fs/bpf/redirect_maps/egress_count key " + ifindex + " 0 0 0");
        assertThat("it counted them under veth2's ifindex", counted, org.hamcrest.CoreMatchers.not(containsString("value: 00 00 00 00 00 00 00 00")));

        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/redirect_maps /sys/fs/bpf/redirect");
    }

    /**
     * xdp_redirect_cpu.c (clang-built: a cpumap of {@code struct bpf_cpumap_val}) on veth1: with the
     * entry empty, ping passes; with a queue size, frames go through CPU 0's backlog; with
     * xdp_drop_icmp_on_cpu named, that program drops the echo requests on CPU 0, counts them in its
     * map, and veth1's RX dropped counts them. Programs of another attach type, and queues over 16384,
     * are refused; the cpumap program cannot be attached to a device.
     */
    @Test
    public void aCpumapEntrysProgramBpftoolNamedRunsOnItsCpuBeforeTheStack() throws Exception {
        Path obj = object("xdp_redirect_cpu");
        ModnetRuntime.run(processor, "bpftool prog loadall " + obj + " /sys/fs/bpf/cpu pinmaps /sys/fs/bpf/cpu_maps");
        String cpus = "pinned /sys/fs/bpf/cpu_maps/cpu_map";
        assertThat(ModnetRuntime.run(processor, "bpftool map show " + cpus), containsString("cpumap  name cpu_map"));
        assertThat(ModnetRuntime.runCapturing(processor, "ns2", "ip link set dev veth1 xdp obj " + obj + " sec xdp/cpumap"),
                containsString("BPF_XDP_CPUMAP programs can not be attached to a device"));
        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/cpu/xdp_redirect_cpu dev veth1");
        assertThat("no entry: XDP_PASS", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        long redirects = counter("veth1", "xdp_redirect");
        ModnetRuntime.run(processor, "bpftool map update " + cpus + " key 0 0 0 0 value 192 0 0 0 0 0 0 0");
        assertThat("through CPU 0's backlog into the stack", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"),
                containsString("1 received"));
        assertTrue("veth1 counted the redirect", counter("veth1", "xdp_redirect") >= redirects + 1);

        assertThat("a program that is not BPF_XDP_CPUMAP is refused", ModnetRuntime.runCapturing(processor, null, "bpftool map update " + cpus
                + " key 0 0 0 0 value 192 0 0 0 " + le32(programId("/sys/fs/bpf/cpu/xdp_redirect_cpu"))),
                containsString("Error: update failed: Invalid argument"));
        int id = programId("/sys/fs/bpf/cpu/xdp_drop_icmp_on_cpu");
        assertThat("a queue of 20000 frames is refused", ModnetRuntime.runCapturing(processor, null, "bpftool map update " + cpus
                + " key 0 0 0 0 value " + le32(20000) + " " + le32(id)),
                containsString("Error: update failed: Value too large for defined data type"));
        ModnetRuntime.run(processor, "bpftool map update " + cpus + " key 0 0 0 0 value 192 0 0 0 " + le32(id));
        long dropped = rxDropped("veth1");
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2"), containsString("0 received"));
        String counted = ModnetRuntime.run(processor, "bpftool map lookup pinned /sys/fs/bpf/cpu_maps/icmp_dropped key 0 0 0 0");
        assertThat("xdp_drop_icmp_on_cpu counted them", counted, containsString("value: 02 00 00 00 00 00 00 00"));
        assertTrue("veth1's RX dropped counted them", rxDropped("veth1") >= dropped + 2);

        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
        assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        ModnetRuntime.run(processor, "rm -r /sys/fs/bpf/cpu_maps /sys/fs/bpf/cpu");
    }

    /** A u32 as bpftool's little-endian bytes. */
    private static String le32(int v) {
        return (v & 0xff) + " " + (v >>> 8 & 0xff) + " " + (v >>> 16 & 0xff) + " " + (v >>> 24 & 0xff);
    }

    /** The dropped column of the RX block of {@code ip -s link show DEV} in ns2. */
    private long rxDropped(String dev) throws Exception {
        String out = ModnetRuntime.run(processor, "ns2", "ip -s link show " + dev);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("RX:\\s+bytes\\s+packets.*\\n\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)")
                .matcher(out);
        assertTrue("no RX block in:\n" + out, m.find());
        return Long.parseLong(m.group(4));
    }

    private int programId(String pin) throws Exception {
        String show = ModnetRuntime.run(processor, "bpftool prog show pinned " + pin);
        return Integer.parseInt(show.substring(0, show.indexOf(':')).strip());
    }

    private long counter(String dev, String name) throws Exception {
        for (String line : ModnetRuntime.run(processor, "ns2", "ethtool -S " + dev).split("\n")) {
            String t = line.trim();
            if (t.startsWith(name + ":")) {
                return Long.parseLong(t.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("ethtool -S " + dev + " has no " + name);
    }

    /** The same program in both modes on a veth end: native (the frame handed over in place) and generic (at the poll), each dropping ping. */
    @Test
    public void xdpRunsNativelyOrGenericallyOnVethAsAsked() throws Exception {
        Path obj = object();
        for (String mode : new String[] { "xdpdrv", "xdpgeneric" }) {
            ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 " + mode + " obj " + obj + " sec xdp");
            String link = ModnetRuntime.run(processor, "ns2", "ip link show veth1");
            assertThat(mode, link, containsString(mode.equals("xdpdrv") ? " xdp " : " xdpgeneric "));
            assertThat(ModnetRuntime.run(processor, "ns2", "bpftool net show"), containsString(mode.equals("xdpdrv") ? ") driver id" : ") generic id"));
            long before = xdpDrops();
            assertThat(ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2"), containsString("0 received"));
            assertTrue(mode + ": the drop counter moved", xdpDrops() >= before + 2);
            ModnetRuntime.run(processor, "ns2", "ip link set dev veth1 xdp off");
            assertThat(ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));
        }
    }
}
