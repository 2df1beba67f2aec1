package org.modnet.feature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.modnet.api.feature.FeatureInfo;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The smallest benchmark: reading a feature file (what {@code feature list} does per file). It proves
 * the JMH harness and sits in the feature bundle's package to reach its package-private reader.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class FeatureFileBenchmark {
    private String text;

    @Setup
    public void read() throws IOException {
        text = Files.readString(Path.of(System.getProperty("modnet.root", ".")).resolve("features/full.json"));
    }

    @Benchmark
    public FeatureInfo parseFullFeature() {
        return FeatureFile.parse("full", text);
    }
}
