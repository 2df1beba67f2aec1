package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * An array of maps on a real Felix (issue 21), driven by bpftool as on Linux: map_in_map.o (clang-built)
 * loaded and its maps pinned, an inner map put into the outer map's slot 0 with {@code bpftool map update
 * ... value pinned FILE}, shown as {@code inner_map_id}; attached to veth1, the program drops ns1's pings
 * and counts them in that inner map.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class MapsOfMapsIT {
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

    @Test
    public void bpftoolPutsAnInnerMapIntoAnArrayOfMapsAndTheProgramCountsIntoIt() throws Exception {
        Path obj = object("map_in_map");
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.net.XdpLoader.class, null);
        ModnetRuntime.vethPair(context, core);
        assertThat("ARP resolved first", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"), containsString("1 received"));

        ModnetRuntime.run(processor, "bpftool prog load " + obj + " /sys/fs/bpf/mim pinmaps /sys/fs/bpf/mimmaps");
        String maps = ModnetRuntime.run(processor, "bpftool map show");
        assertThat(maps, containsString("array_of_maps  name by_queue"));
        assertThat(maps, containsString("hash_of_maps  name by_ifindex"));
        ModnetRuntime.run(processor, "bpftool map update pinned /sys/fs/bpf/mimmaps/by_queue key 0 0 0 0 value pinned /sys/fs/bpf/mimmaps/inner_a");
        String innerLine = maps.lines().filter(l -> l.contains("name inner_a")).findFirst().orElseThrow();
        String innerId = innerLine.substring(0, innerLine.indexOf(':')).trim();
        assertThat(ModnetRuntime.run(processor, "bpftool map lookup pinned /sys/fs/bpf/mimmaps/by_queue key 0 0 0 0"),
                containsString("inner_map_id: " + innerId));

        ModnetRuntime.run(processor, "ns2", "bpftool net attach xdp pinned /sys/fs/bpf/mim dev veth1");
        String ping = ModnetRuntime.runCapturing(processor, "ns1", "ping -c 2 -i 0.2 -W 1 10.0.0.2");
        assertThat("queue 0's map is there: the program drops", ping, containsString("2 packets transmitted, 0 received"));
        String count = ModnetRuntime.run(processor, "bpftool map lookup id " + innerId + " key 0 0 0 0");
        assertTrue("inner_a counted the frames: " + count, !count.contains("value: 00 00 00 00 00 00 00 00"));

        ModnetRuntime.run(processor, "bpftool map delete pinned /sys/fs/bpf/mimmaps/by_queue key 0 0 0 0");
        assertThat("no map for queue 0: the program passes", ModnetRuntime.run(processor, "ns1", "ping -c 1 -W 2 10.0.0.2"),
                containsString("1 received"));
        ModnetRuntime.run(processor, "ns2", "bpftool net detach xdp dev veth1");
    }
}
