package org.modnet.feature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.modnet.api.feature.FeatureException;
import org.modnet.api.feature.FeatureInfo;
import org.modnet.api.feature.FeatureService;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs and removes features while the stack runs. Bundles a feature installs get a location
 * starting {@code feature:}, so the manager never removes what the launcher started; a bundle stays
 * while any installed feature still lists it.
 */
@Component(service = FeatureService.class, immediate = true)
public final class FeatureManager implements FeatureService {
    /** Framework property: the folder of feature files (default {@code features}). */
    static final String FEATURES_DIR = "modnet.features";
    /** Framework property: the folder of bundle jars features install from (default {@code repo}). */
    static final String REPO_DIR = "modnet.repo";
    static final String LOCATION_PREFIX = "feature:";

    private static final Logger LOG = LoggerFactory.getLogger(FeatureManager.class);

    private final BundleContext context;
    private final Path featuresDir;
    private final BundleRepository repository;
    private final Path stateFile;
    private final Set<String> installed = new LinkedHashSet<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ConfigurationAdmin configurationAdmin;

    /** To wait until the core applied a sysctl configuration (Configuration Admin delivers it on its own thread). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile org.modnet.api.net.NetCore core;

    /** The PID whose properties are sysctls ({@code org.modnet.core}'s). */
    static final String SYSCTL_PID = "org.modnet.sysctl";
    /** How long a feature change waits for the core to apply its sysctls. */
    private static final long SYSCTL_WAIT_NANOS = 5_000_000_000L;

    @Activate
    public FeatureManager(BundleContext context) throws IOException {
        this.context = context;
        this.featuresDir = Paths.get(property(context, FEATURES_DIR, "features")).toAbsolutePath();
        this.repository = new BundleRepository(Paths.get(property(context, REPO_DIR, "repo")).toAbsolutePath());
        this.stateFile = context.getDataFile("installed-features").toPath();
        if (Files.isRegularFile(stateFile)) {
            for (String line : Files.readAllLines(stateFile)) {
                if (!line.isBlank()) {
                    installed.add(line.trim());
                }
            }
        }
    }

    private static String property(BundleContext context, String key, String fallback) {
        String value = context.getProperty(key);
        return value == null || value.isBlank() ? fallback : value;
    }

    @Override
    public synchronized List<FeatureInfo> features() {
        List<FeatureInfo> result = new ArrayList<>();
        try (Stream<Path> files = Files.list(featuresDir)) {
            for (Path file : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".json")).sorted()::iterator) {
                String name = file.getFileName().toString().replaceFirst("\\.json$", "");
                try {
                    FeatureInfo f = FeatureFile.parse(name, Files.readString(file, StandardCharsets.UTF_8));
                    result.add(withState(f));
                } catch (IllegalArgumentException | IOException e) {
                    LOG.warn("skipping {}: {}", file, e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list features in {}: {}", featuresDir, e.toString());
        }
        return result;
    }

    private FeatureInfo withState(FeatureInfo f) {
        return new FeatureInfo(f.name(), f.id(), f.description(), f.bundles(), f.configurations(),
                installed.contains(f.name()));
    }

    FeatureInfo read(String name) throws FeatureException {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new FeatureException("feature: bad feature name '" + name + "'");
        }
        Path file = featuresDir.resolve(name + ".json");
        if (!Files.isRegularFile(file)) {
            throw new FeatureException("feature: no feature named '" + name + "' in " + featuresDir
                    + " (feature list shows them)");
        }
        try {
            return FeatureFile.parse(name, Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new FeatureException(e.getMessage());
        } catch (IOException e) {
            throw new FeatureException("feature " + name + ": cannot read " + file + ": " + e.getMessage());
        }
    }

    @Override
    public synchronized List<String> install(String name) throws FeatureException {
        FeatureInfo feature = read(name);
        List<Bundle> added = new ArrayList<>();
        List<Bundle> wanted = new ArrayList<>();
        List<String> report = new ArrayList<>();
        try {
            for (String id : feature.bundles()) {
                wanted.add(installOne(name, MavenId.parse(id), added));
            }
            context.getBundle(0).adapt(FrameworkWiring.class).resolveBundles(new HashSet<>(added));
            // before the starts when Configuration Admin runs already, so components activate configured
            boolean configured = applyConfigurations(feature, report);
            for (Bundle bundle : wanted) {
                boolean fragment = bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null;
                boolean wasActive = bundle.getState() == Bundle.ACTIVE;
                if (!fragment && !wasActive) {
                    bundle.start();
                }
                String label = label(bundle);
                report.add(added.contains(bundle) ? (fragment ? "installed " + label : FeaturePlan.installedAndStarted(label))
                        : fragment || wasActive ? FeaturePlan.present(label) : FeaturePlan.started(label));
            }
            if (!configured && !applyConfigurations(feature, report)) {
                throw new BundleException("Configuration Admin (org.apache.felix.configadmin) is not running, so "
                        + "configurations " + feature.configurations().keySet() + " cannot be applied");
            }
        } catch (BundleException | IOException | RuntimeException e) {
            rollBack(added);
            throw new FeatureException("feature " + name + ": " + e.getMessage(), e);
        }
        installed.add(name);
        saveState();
        LOG.info("feature {} installed: {} new bundle(s)", name, added.size());
        return report;
    }

    private static String label(Bundle b) {
        return b.getSymbolicName() + " " + b.getVersion();
    }

    private Bundle installOne(String feature, MavenId id, List<Bundle> added) throws IOException, BundleException {
        Path jar = repository.find(id);
        if (jar == null) {
            throw new BundleException("bundle " + id + " is not in " + repository.dir()
                    + " (build it: mvn install, or bin/modnet rebuilds it)");
        }
        Map<String, String> headers = BundleRepository.headers(jar);
        String bsn = headers.getOrDefault(Constants.BUNDLE_SYMBOLICNAME, "").split(";")[0].trim();
        Version version = Version.parseVersion(headers.getOrDefault(Constants.BUNDLE_VERSION, "0.0.0"));
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                // the same version, or this jar's bundle updated live since (a staged update's #N location)
                if (b.getVersion().equals(version) || FeaturePlan.installedFrom(b.getLocation(), jar.getFileName().toString())) {
                    return b;
                }
                if (!b.getLocation().startsWith(LOCATION_PREFIX)) {
                    throw new BundleException("bundle " + bsn + " " + b.getVersion() + " is installed; the feature wants "
                            + version);
                }
            }
        }
        try (InputStream in = Files.newInputStream(jar)) {
            Bundle bundle = context.installBundle(LOCATION_PREFIX + jar.toUri(), in);
            added.add(bundle);
            return bundle;
        }
    }

    /** Applies the feature's configurations; false if it has some and Configuration Admin is not there. */
    private boolean applyConfigurations(FeatureInfo feature, List<String> report) throws IOException {
        if (feature.configurations().isEmpty()) {
            return true;
        }
        ConfigurationAdmin cm = configurationAdmin;
        if (cm == null) {
            return false;
        }
        for (Map.Entry<String, Map<String, Object>> e : feature.configurations().entrySet()) {
            Dictionary<String, Object> props = new Hashtable<>();
            e.getValue().forEach((k, v) -> props.put(k, v instanceof List<?> l ? l.toArray(new String[0]) : v));
            Configuration config = cm.getConfiguration(e.getKey(), "?");
            boolean changed = config.updateIfDifferent(props);
            report.add(FeaturePlan.configured(e.getKey(), e.getValue(), changed));
            if (changed && e.getKey().equals(SYSCTL_PID)) {
                awaitSysctls(e.getValue(), true);
            }
        }
        return true;
    }

    /**
     * Waits (at most 5 s) until the core shows a sysctl configuration applied ({@code applied}: each
     * name has its configured value) or deleted (each name left the configured value, or, where the
     * default is that value, a second passed): Configuration Admin hands the change to the core on its
     * own thread, and {@code feature install}/{@code uninstall} returns, as {@code sysctl --system}
     * does, once it took effect, so the next command sees it.
     */
    private void awaitSysctls(Map<String, Object> configured, boolean applied) {
        org.modnet.api.net.NetCore c = core;
        if (c == null) {
            return;
        }
        long start = System.nanoTime();
        while (System.nanoTime() - start < (applied ? SYSCTL_WAIT_NANOS : 1_000_000_000L)) {
            boolean done = true;
            for (org.modnet.api.net.NetNamespace ns : c.namespaces()) { // the core applies it to each in turn
                for (Map.Entry<String, Object> e : configured.entrySet()) {
                    if (!e.getKey().startsWith("net.")) {
                        continue;
                    }
                    String want = e.getValue() instanceof List<?> l ? String.join(" ", l.stream().map(String::valueOf).toList())
                            : String.valueOf(e.getValue());
                    String now;
                    try {
                        now = ns.sysctl().get(e.getKey().replace('/', '.')).replaceAll("\\s+", " ").strip();
                    } catch (org.modnet.api.net.NetException | RuntimeException x) {
                        continue; // not registered (its layer is out): nothing to wait for
                    }
                    if (now.equals(want.replaceAll("\\s+", " ").strip()) != applied) {
                        done = false;
                    }
                }
            }
            if (done) {
                return;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void rollBack(List<Bundle> added) {
        for (Bundle b : added) {
            try {
                b.uninstall();
            } catch (BundleException | IllegalStateException e) {
                LOG.warn("roll back: cannot uninstall {}: {}", b.getSymbolicName(), e.toString());
            }
        }
        if (!added.isEmpty()) {
            refresh(added);
        }
    }

    @Override
    public synchronized List<String> uninstall(String name) throws FeatureException {
        FeatureInfo feature = read(name);
        if (!installed.contains(name)) {
            throw new FeatureException("feature: " + name + " is not installed");
        }
        installed.remove(name);
        List<FeatureInfo> others = new ArrayList<>();
        for (String other : installed) {
            try {
                others.add(read(other));
            } catch (FeatureException e) {
                LOG.warn("installed feature {} can no longer be read: {}", other, e.getMessage());
            }
        }
        List<String> report = new ArrayList<>();
        // configurations first: the layers that stay see them go (ip_forward back to 0) before bundles leave
        deleteConfigurations(feature, others, report);
        List<Bundle> removed = new ArrayList<>();
        List<String> bundleIds = new ArrayList<>(feature.bundles());
        Collections.reverse(bundleIds);
        for (String id : bundleIds) {
            Bundle bundle = findInstalled(MavenId.parse(id));
            if (bundle == null) {
                continue;
            }
            String label = label(bundle);
            String neededBy = FeaturePlan.bundleNeededBy(id, others);
            if (neededBy != null) {
                report.add(FeaturePlan.keptForFeature(label, neededBy));
            } else if (!bundle.getLocation().startsWith(LOCATION_PREFIX)) {
                report.add(FeaturePlan.keptForLauncher(label));
            } else {
                try {
                    bundle.uninstall();
                    removed.add(bundle);
                    report.add(FeaturePlan.uninstalled(label));
                } catch (BundleException e) {
                    report.add("cannot uninstall " + label + ": " + e.getMessage());
                }
            }
        }
        refresh(removed);
        saveState();
        LOG.info("feature {} uninstalled: {} bundle(s) removed", name, removed.size());
        return report;
    }

    private Bundle findInstalled(MavenId id) {
        Version version = id.osgiVersion();
        for (Bundle b : context.getBundles()) {
            if (FeaturePlan.installedFrom(b.getLocation(), id.fileName())) {
                return b;
            }
            if (id.artifact().equals(b.getSymbolicName()) && version.equals(b.getVersion())) {
                return b;
            }
        }
        return null;
    }

    private void deleteConfigurations(FeatureInfo feature, List<FeatureInfo> others, List<String> report) {
        ConfigurationAdmin cm = configurationAdmin;
        if (cm == null) {
            return;
        }
        for (String pid : feature.configurations().keySet()) {
            String neededBy = FeaturePlan.configurationNeededBy(pid, others);
            if (neededBy != null) {
                report.add(FeaturePlan.keptConfiguration(pid, neededBy));
                continue;
            }
            try {
                Configuration[] configs = cm.listConfigurations("(service.pid=" + pid + ")");
                if (configs != null) {
                    for (Configuration c : configs) {
                        c.delete();
                    }
                    report.add(FeaturePlan.deletedConfiguration(pid));
                    if (pid.equals(SYSCTL_PID)) {
                        awaitSysctls(feature.configurations().get(pid), false);
                    }
                }
            } catch (IOException | org.osgi.framework.InvalidSyntaxException e) {
                report.add("cannot delete configuration " + pid + ": " + e.getMessage());
            }
        }
    }

    /** Refreshes the framework after uninstalls and waits for it, so the caller sees the result. */
    private void refresh(List<Bundle> bundles) {
        if (bundles.isEmpty()) {
            return;
        }
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        });
        try {
            if (!done.await(30, TimeUnit.SECONDS)) {
                LOG.warn("refresh after feature change did not finish in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void saveState() {
        try {
            Files.write(stateFile, installed);
        } catch (IOException e) {
            LOG.warn("cannot save installed features to {}: {}", stateFile, e.toString());
        }
    }
}
