package org.peft4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.peft4j.Fixtures;
import org.peft4j.ManagedTest;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;
import org.peft4j.tuners.TargetModules;
import org.peft4j.tuners.lora.LoraConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The web page end to end in a real headless browser (Debian's chromium and chromedriver, which
 * {@code .ci/run} installs): pick an adapter, upload an image, read the top-5 labels on the page,
 * and find them equal to the API's answer for the same adapter and image.
 */
class WebPageBrowserTest extends ManagedTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path tmp;

    /** Headless chromium through Debian's chromedriver (given explicitly: Selenium Manager would try to download one). */
    private static WebDriver browser() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        ChromeOptions chrome = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, chrome);
    }

    @Test
    void withSamClickTheObjectAndSeeItsMask() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "needs chromium");
        org.peft4j.models.sam.SamModel sam = org.peft4j.models.sam.SamCheckpoint.load(Fixtures.tinySam(tmp.resolve("sam")), manager);
        PeftModel peft = new PeftModel(sam, null, manager);
        Path image = tmp.resolve("scene.png");
        Files.write(image, AdapterServerTest.png(6));
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 16);
        try (AdapterServer server = new AdapterServer(peft, null, null, manager, options)) {
            String url = server.start();
            WebDriver browser = browser();
            try {
                browser.get(url + "/");
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                wait.until(d -> "true".equals(d.findElement(By.tagName("body")).getAttribute("data-ready")));
                wait.until(d -> d.findElement(By.id("intro")).getText().startsWith("SAM"));
                browser.findElement(By.id("file")).sendKeys(image.toAbsolutePath().toString());
                WebElement canvas = browser.findElement(By.id("canvas"));
                wait.until(d -> canvas.isDisplayed() && d.findElement(By.id("masks")).getText().startsWith("Click"));
                new org.openqa.selenium.interactions.Actions(browser).moveToElement(canvas).click().perform();
                wait.until(d -> d.findElement(By.id("masks")).getText().startsWith("mask:"));
                assertEquals("", browser.findElement(By.id("error")).getText());
                String text = browser.findElement(By.id("masks")).getText();
                org.junit.jupiter.api.Assertions.assertTrue(text.matches("mask: [0-9.]+% of the image, predicted IoU -?[0-9.]+"), text);
            } finally {
                browser.quit();
            }
        }
    }

    @Test
    void pickAnAdapterUploadAnImageReadTheLabels() throws Exception {
        VitForImageClassification vit = VitCheckpoint.load(Fixtures.vitTiny("hf"), manager);
        PeftModel peft = new PeftModel(vit, vit.headPath(), manager);
        ai.djl.engine.Engine.getInstance().setRandomSeed(8);
        for (String name : List.of("shapes-a", "shapes-b")) {
            peft.addAdapter(name, LoraConfig.of(4, 8, TargetModules.of("query", "value")).withModulesToSave(List.of("classifier")));
            for (ai.djl.nn.Parameter p : peft.trainableParameters().values()) {
                p.getArray().set(manager.randomNormal(p.getArray().getShape()).mul(0.5f).toFloatArray());
            }
        }
        peft.disableAdapters();
        Path image = tmp.resolve("upload.png");
        Files.write(image, AdapterServerTest.png(4));
        AdapterServer.Options options = AdapterServer.Options.defaults("127.0.0.1", 0).withBatching(4, 1, 16);
        try (AdapterServer server = new AdapterServer(peft, vit.config().labels(), FineTuning.transformFor(vit), manager, options)) {
            String url = server.start();
            HttpResponse<String> api = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/v1/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(AdapterServerTest.request("shapes-b", AdapterServerTest.png(4))
                            .replace("\"top_k\":3", "\"top_k\":5"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            List<String> expected = new ArrayList<>();
            for (JsonNode t : Json.MAPPER.readTree(api.body()).get("top")) {
                expected.add(t.get("label").asText());
            }
            WebDriver browser = browser();
            try {
                browser.get(url + "/");
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                wait.until(d -> "true".equals(d.findElement(By.tagName("body")).getAttribute("data-ready")));
                browser.findElement(By.cssSelector("#adapter option[value='shapes-b']")).click();
                WebElement file = browser.findElement(By.id("file"));
                file.sendKeys(image.toAbsolutePath().toString());
                wait.until(d -> d.findElements(By.cssSelector("#labels tbody tr.label")).size() == 5
                        && d.findElement(By.id("labels")).isDisplayed());
                List<String> shown = new ArrayList<>();
                for (WebElement row : browser.findElements(By.cssSelector("#labels tbody tr.label"))) {
                    shown.add(row.findElements(By.tagName("td")).get(0).getText());
                }
                assertEquals(expected, shown, "the page shows the API's top-5 for shapes-b");
                assertEquals("", browser.findElement(By.id("error")).getText());
            } finally {
                browser.quit();
            }
        }
    }
}
