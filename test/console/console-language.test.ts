import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleRig, incidentOf, SITES } from "./helpers/console-rig.js";

/** Month stems as Kazakh and Russian write them (so the test does not trust one ICU's spelling). */
const KK_MONTHS = ["қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел"];
const RU_MONTHS = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"];

/** The wall-clock parts of an instant in Almaty, worked out here (UTC+5; no summer time since 2024). */
function almaty(iso: string): { time: string; month: number; year: number } {
  const d = new Date(Date.parse(iso) + 5 * 3600_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return {
    time: `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`,
    month: d.getUTCMonth(),
    year: d.getUTCFullYear(),
  };
}

describe("the console in Kazakh and Russian, times in Asia/Almaty", () => {
  const rig = new ConsoleRig();
  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it("a Kazakh browser gets the Kazakh page; the officer switches to Russian and it is remembered", async () => {
    const med = rig.pillar(SITES[0]!.id);
    await med.click();
    const page = await rig.page({ locale: "kk-KZ", officer: "officer-dana" });
    const card = page.locator(".card.alarm");
    await card.waitFor({ timeout: 10_000 });
    const openedAt = med.app.core.incidents.snapshot().openedAt as string;
    expect(card).toBeTruthy();
    expect(await page.locator("html").getAttribute("lang")).toBe("kk");
    expect(await page.locator(".top .count").textContent()).toBe("Ашық дабылдар: 1");
    expect(await page.title()).toBe("(1) SOS бағаналары — кезекші пульті");
    expect(await page.locator(".top .zone").textContent()).toMatch(/^Уақыт белдеуі: Asia\/Almaty \(GMT\+5\)$/);
    expect(await page.locator("button.start-shift").textContent()).toBe("Кезекшілікті бастау");
    expect(await card.locator(".badge").textContent()).toBe("ДАБЫЛ");
    expect(await card.locator("button.ack").textContent()).toBe("Растау");
    expect(await card.locator("button.answer").textContent()).toBe("Жауап беру");
    expect(await card.locator(".timeline").textContent()).toContain("SOS түймесі басылды (1-басу)");
    expect(await page.locator(".fleet th").first().textContent()).toBe("Бағана");
    // the press time in Almaty, with its zone, in Kazakh
    const a = almaty(openedAt);
    const kkDate = (await card.locator("time.date").textContent())!;
    expect(kkDate).toContain(a.time);
    expect(kkDate).toContain(String(a.year));
    expect(kkDate).toContain("GMT+5");
    expect(kkDate.toLowerCase()).toContain(KK_MONTHS[a.month]);
    await rig.screenshot(page, "console-kazakh.png");

    // Russian, by the officer's choice
    await page.locator(".top .lang select").selectOption("ru");
    await expect.poll(() => page.locator(".top .count").textContent()).toBe("Открытые тревоги: 1");
    expect(await page.locator("html").getAttribute("lang")).toBe("ru");
    expect(await page.title()).toBe("(1) Колонны SOS — пульт дежурного");
    expect(await card.locator(".badge").textContent()).toBe("ТРЕВОГА");
    expect(await card.locator("button.ack").textContent()).toBe("Подтвердить");
    expect(await card.locator("button.answer").textContent()).toBe("Ответить");
    expect(await page.locator(".top .zone").textContent()).toBe("Часовой пояс: Asia/Almaty (GMT+5)");
    const ruDate = (await card.locator("time.date").textContent())!;
    expect(ruDate).toContain(a.time);
    expect(ruDate).toContain("GMT+5");
    expect(ruDate.toLowerCase()).toContain(RU_MONTHS[a.month]);
    await rig.screenshot(page, "console-russian.png");

    // remembered for this officer across a reload, though the browser says Kazakh
    await page.reload();
    await page.locator(".card.alarm").waitFor({ timeout: 10_000 });
    expect(await page.locator(".top .count").textContent()).toBe("Открытые тревоги: 1");
    // another officer on the same browser starts from the browser's language
    await page.goto(`${rig.console.url}?officer=officer-erlan`);
    await page.locator(".card.alarm").waitFor({ timeout: 10_000 });
    expect(await page.locator(".top .count").textContent()).toBe("Ашық дабылдар: 1");
    await page.context().close();

    // a Russian browser gets the Russian page
    const ru = await rig.page({ locale: "ru-RU", officer: "officer-bolat" });
    await ru.locator(".card.alarm").waitFor({ timeout: 10_000 });
    expect(await ru.locator(".card.alarm .badge").textContent()).toBe("ТРЕВОГА");
    expect(incidentOf(med).state).toBe("alarm");
    await ru.context().close();
  });
});
