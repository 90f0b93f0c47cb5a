package io.herd.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.core.twin.Twin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every {@code src/test/resources/queries/*.q}: lines {@code query:}, {@code plan:} (the
 * canonical optimized query) and {@code ids:} (the twins of {@link TestTwins#fleet()} that match,
 * in fleet order; empty for none). Lines starting with {@code #} are comments.
 */
class GoldenQueryTest {
  static Stream<Path> goldenFiles() throws IOException, URISyntaxException {
    Path dir = Path.of(GoldenQueryTest.class.getResource("/queries").toURI());
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".q")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(10);
    return files.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenFiles")
  void queryCompilesToItsPlanAndMatchesItsIds(Path file) {
    String query = field(file, "query");
    String plan = field(file, "plan");
    List<String> ids =
        Arrays.stream(field(file, "ids").split(","))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .toList();

    CompiledQuery q = QueryEngine.compile(query);

    assertThat(q.explain()).as("plan").isEqualTo(plan);
    List<String> matched =
        TestTwins.fleet().stream()
            .filter(q::matches)
            .map(Twin::key)
            .map(Object::toString)
            .collect(Collectors.toList());
    assertThat(matched).as("ids").isEqualTo(ids);
  }

  private static String field(Path file, String name) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
          .filter(l -> l.startsWith(name + ":"))
          .map(l -> l.substring(name.length() + 1).strip())
          .findFirst()
          .orElseThrow(() -> new AssertionError(file + " has no '" + name + ":' line"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
