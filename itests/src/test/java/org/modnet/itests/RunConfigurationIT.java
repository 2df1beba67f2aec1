package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureInfo;
import org.modnet.api.feature.FeatureService;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/**
 * Boots Apache Felix with the bundles of the default run configuration (as bnd exported them) and
 * checks the stack as a user meets it: every bundle active, modnet commands in the shell, features
 * installed and removed live, the shell bundle stopped and started live. A fresh framework per test.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class RunConfigurationIT {

    @Inject
    private BundleContext context;

    @Inject
    private CommandProcessor processor;

    @Inject
    private FeatureService features;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Test
    public void everyBundleOfTheRunConfigurationIsActive() {
        List<String> notActive = new ArrayList<>();
        int modnet = 0;
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (!fragment && b.getState() != Bundle.ACTIVE) {
                notActive.add(b.getSymbolicName() + " (state " + b.getState() + ")");
            }
            if (String.valueOf(b.getSymbolicName()).startsWith("org.modnet.")) {
                modnet++;
            }
        }
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());
        assertEquals("api, console and feature boot with the run configuration", 3, modnet);
    }

    @Test
    public void featureListShowsTheFeaturesOfTheFeatureDirectory() throws Exception {
        String out = ModnetRuntime.run(processor, "feature list");
        assertThat(out, containsString("NAME"));
        assertThat(out, containsString("minimal"));
        assertThat(out, containsString("full"));
    }

    @Test
    public void installingTheMinimalFeatureAddsTheShellBundleAndItsCommands() throws Exception {
        assertNull(bundle("org.modnet.shell"));
        List<String> installed = features.install("minimal");
        assertTrue(installed.toString(), installed.stream().anyMatch(s -> s.startsWith("installed and started org.modnet.shell ")));
        assertTrue("the launcher's bundles are reported present: " + installed,
                installed.stream().anyMatch(s -> s.startsWith("present org.modnet.console ")));
        Bundle shell = bundle("org.modnet.shell");
        assertNotNull(shell);
        assertEquals(Bundle.ACTIVE, shell.getState());

        String lsmod = ModnetRuntime.run(processor, "lsmod");
        assertThat(lsmod, containsString("Module"));
        assertThat(lsmod, containsString("Used by"));
        assertThat(lsmod, containsString("org.modnet.shell"));
        assertThat(lsmod, containsString("Size"));
        assertTrue(features.features().stream().filter(FeatureInfo::installed).anyMatch(f -> f.name().equals("minimal")));
    }

    @Test
    public void uninstallingAFeatureRemovesItsBundlesButNotTheLaunchers() throws Exception {
        features.install("minimal");
        assertNotNull(bundle("org.modnet.shell"));

        List<String> removed = features.uninstall("minimal");

        assertTrue(removed.toString(), removed.stream().anyMatch(s -> s.startsWith("stopped and uninstalled org.modnet.shell ")));
        assertTrue(removed.toString(), removed.contains("kept org.modnet.console 0.1.0.SNAPSHOT: the launcher started it"));
        assertNull("the shell bundle is gone", bundle("org.modnet.shell"));
        assertNotNull("the launcher's feature manager stays", bundle("org.modnet.feature"));
        assertNotNull("the launcher's console stays", bundle("org.modnet.console"));
        try {
            ModnetRuntime.run(processor, "lsmod");
            fail("lsmod should be gone with the shell bundle");
        } catch (Exception e) {
            assertThat(e.toString(), containsString("Command not found: lsmod"));
        }
    }

    @Test
    public void stoppingTheShellBundleRemovesItsCommandsAndStartingItRestoresThem() throws Exception {
        features.install("minimal");
        Bundle shell = bundle("org.modnet.shell");

        shell.stop();
        try {
            ModnetRuntime.run(processor, "lsmod");
            fail("lsmod should be gone while the shell bundle is stopped");
        } catch (Exception e) {
            assertThat(e.toString(), containsString("Command not found: lsmod"));
        }

        shell.start();
        assertThat(ModnetRuntime.run(processor, "lsmod"), containsString("org.modnet.shell"));
    }

    @Test
    public void installingAnUnknownFeatureFailsAndChangesNothing() throws Exception {
        int before = context.getBundles().length;
        try {
            ModnetRuntime.run(processor, "feature install nosuch");
            fail("an unknown feature must fail");
        } catch (Exception e) {
            assertThat(e.toString(), containsString("no feature named 'nosuch'"));
        }
        assertEquals(before, context.getBundles().length);
        assertThat(ModnetRuntime.run(processor, "feature list"), not(containsString("nosuch")));
        assertFalse(features.features().stream().anyMatch(FeatureInfo::installed));
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }
}
