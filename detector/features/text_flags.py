"""The phrases that set a content flag, per flag and language, compiled once into one
regular expression per flag.

Campaigns write in many languages, and a rubric-grading farm writing in Chinese
must read as rubric grading. Each flag lists, per language, a few regular-expression
fragments for what people actually write; every fragment of a flag, whatever its
language, goes into that flag's one pattern, searched in the lower-cased text, so a
prompt that mixes languages is read in all of them.

How the fragments are written:

- In lower case (the text is lowered once per call; a test checks the fragments).
- English keeps the rules the classifier started with (the same matches). Only Latin and
  Cyrillic fragments use ``\\b``: Chinese, Japanese and Korean have no spaces between
  words and Devanagari vowel signs are not word characters.
- Words that everyday chat uses in another sense ("function", "code", "form",
  "step by step" for a recipe) count only next to the word that makes them a
  request of this kind (``_near``): "write ... function", "step by step ... reason".
- Fragments in Latin-script languages are built so that English text cannot match
  them (a Spanish verb, a French noun), which keeps English behaviour unchanged.
- Arabic fragments are written without vowel marks and with a bare alef; ``_arabic``
  lets them match text with or without harakat, tatweel, hamza forms of alef, final
  yeh or alef maksura, and teh marbuta or heh. Devanagari fragments are written
  without nukta; ``_devanagari`` lets a nukta (combining or precomposed) follow.
"""

from __future__ import annotations

import re

# Every flag has a rule in each of these languages (ISO 639-1 codes).
LANGUAGES: tuple[str, ...] = ("en", "zh", "ru", "es", "pt", "de", "fr", "ja", "ko", "ar", "hi")

# Characters that end a sentence, in the scripts above.
_GAP = r"[^.!?。！？؟।\n]"


def _near(first: str, second: str, gap: int = 30) -> str:
    """``first`` followed by ``second`` within ``gap`` characters of one sentence."""
    return f"(?:{first}){_GAP}{{0,{gap}}}(?:{second})"


def _either(one: str, other: str, gap: int = 30) -> str:
    """``one`` and ``other`` in either order within one sentence."""
    return f"{_near(one, other, gap)}|{_near(other, one, gap)}"


def _nearby(one: str, other: str, gap: int = 80) -> str:
    """``one`` and ``other`` in either order within ``gap`` characters, across lines."""
    return f"(?:{one}).{{0,{gap}}}(?:{other})|(?:{other}).{{0,{gap}}}(?:{one})"


# Arabic: vowel marks, superscript alef and tatweel may follow any letter.
_ARABIC_MARKS = "[\u064b-\u065f\u0670\u0640]*"
_ARABIC_VARIANTS = {"ا": "[اأإآ]", "ي": "[يى]", "ى": "[يى]", "ة": "[ةه]"}


def _arabic(fragment: str) -> str:
    """An Arabic fragment that matches its spelling variants (no Arabic letters inside
    ``[...]`` or right before a quantifier: the letter becomes a group)."""
    out = []
    for char in fragment:
        if "\u0621" <= char <= "\u064a":
            out.append(f"(?:{_ARABIC_VARIANTS.get(char, char)}{_ARABIC_MARKS})")
        else:
            out.append(char)
    return "".join(out)


# Devanagari consonants that take a nukta, and their precomposed forms.
_NUKTA = {"क": "क़", "ख": "ख़", "ग": "ग़", "ज": "ज़", "ड": "ड़", "ढ": "ढ़", "फ": "फ़", "य": "य़"}


def _devanagari(fragment: str) -> str:
    """A Hindi fragment written without nukta that also matches it with one."""
    return "".join(
        f"(?:{char}\u093c?|{_NUKTA[char]})" if char in _NUKTA else char for char in fragment
    )


# --- cot_elicitation: write out, step by step, the reasoning behind an answer ---------

_STEPWISE = {
    "zh": "一步一步|一步步|逐步|分步骤?|按步骤",
    "ru": "пошагово|шаг за шагом|по шагам",
    "es": "paso a paso|paso por paso",
    "pt": "passo a passo|passo por passo",
    "de": "schritt für schritt|schrittweise",
    "fr": "étape par étape|etape par etape|pas à pas",
    "ja": "ステップ・?バイ・?ステップ|段階的に|一歩ずつ|順を追って|ステップごとに",
    "ko": "단계별로|단계적으로|차근차근|한 단계씩|단계를 밟아|스텝 바이 스텝",
    "ar": "خطوة بخطوة|خطوة خطوة",
    "hi": "चरण दर चरण|चरण-दर-चरण|चरणबद्ध तरीके से|कदम दर कदम|कदम-दर-कदम|स्टेप बाय स्टेप",
}

COT_ELICITATION: dict[str, tuple[str, ...]] = {
    "en": (
        r"step[- ]by[- ]step",
        r"chain[- ]of[- ]thought",
        r"reasoning (?:behind|trace|process)",
        r"show (?:your|all (?:of )?your) (?:work|reasoning|thinking)",
        r"(?:explain|write out|walk through) (?:your|the) "
        r"(?:full |complete )?(?:reasoning|thought)",
        r"transparent reasoning",
        r"think (?:out loud|aloud)",
    ),
    "zh": (
        "思维链|思維鏈|思考链|思考鏈",
        "推理过程|推理過程|推理步骤|推理步驟|推导过程|推導過程|思考过程|思考過程",
        "解题过程|解題過程|解题思路|解題思路|解题步骤|解題步驟",
        _near(_STEPWISE["zh"], "推理|推导|推導|思考|分析|论证|論證|求解|解答|解释|解釋", 12),
        _near("为什么|為什麼|如何|怎么|怎麼|怎样|怎樣", "(得出|得到|推出)", 12)
        + _GAP
        + "{0,8}(?:答案|结论|結論)",
        _near(
            "展示|写出|寫出|给出|給出|列出",
            "(?:你的|完整的?|详细的?|詳細的?)?(?:推理|思路|思考)",
            4,
        ),
    ),
    "ru": (
        r"цепочк\w* (рассуждени|мысл)\w*",
        r"ход\w* (рассуждени|мысл|решени)\w*",
        _either(_STEPWISE["ru"], r"рассужд|подума|думай|реши|решай|решить|обоснуй|докажи"),
        r"(свои|твои|ваши|все|подробные|развёрнутые|развернутые) рассуждения",
        r"(рассуждай|думай|размышляй) вслух",
        _near(r"почему|как", r"(этот|такой|данный|правильный|верный) ответ", 30),
    ),
    "es": (
        r"cadena de (pensamiento|razonamiento)",
        r"razonamiento (detrás|detras|completo|detallado)",
        r"proceso de (razonamiento|pensamiento)",
        _near(
            r"muestra|muéstrame|muestrame|explica|explícame|explicame|escribe|detalla|expón",
            r"(tu|su|el|todo tu|todo el) razonamiento",
            20,
        ),
        _either(_STEPWISE["es"], r"razona|razonando|piensa|pensando|resuelve|deduce|justifica"),
        r"piensa en voz alta|pensar en voz alta",
        _near(
            r"cómo|como|por qué|por que",
            r"(llega|llegas|llegaste|llegó|llegar|obtiene|obtuviste|obtener) a (esta|esa) "
            r"(respuesta|solución|solucion|conclusión|conclusion)",
        ),
    ),
    "pt": (
        r"cadeia de (pensamento|raciocínio|raciocinio)",
        r"(raciocínio|raciocinio) (por trás|por tras|completo|detalhado)",
        r"processo de (raciocínio|raciocinio|pensamento)",
        _near(
            r"mostre|mostra|explique|explica|escreva|escreve|detalhe|descreva",
            r"(seu|teu|o|todo o) (raciocínio|raciocinio)",
            20,
        ),
        _either(
            _STEPWISE["pt"], r"raciocine|raciocinando|pense|pensando|resolva|deduza|justifique"
        ),
        r"pense em voz alta|pensar em voz alta",
        _near(
            r"como|por que|porque",
            r"(chega|chegou|chegaste|chegar|obteve|obter) (a|à|nessa|nesta) (essa|esta)? ?"
            r"(resposta|solução|solucao|conclusão|conclusao)",
        ),
    ),
    "de": (
        r"gedankenkette|denkkette|argumentationskette",
        r"gedankengang|gedankengänge|denkprozess|denkschritte|lösungsweg|rechenweg",
        _either(
            _STEPWISE["de"],
            r"denk|überleg|begründ|herleit|leite|löse|lösen|lösung|argumentier|schlussfolger",
        ),
        r"(überlegungen?|begründung|argumentation) (hinter|zu) (dieser|der) (antwort|lösung)",
        r"laut (denken|nachdenken)|denke? laut",
        _near(
            r"wie",
            r"(auf|zu) (diese|dieser|diesem|die|der|dem) (antwort|lösung|ergebnis|schluss)\w* "
            r"(kommst|kommt|gekommen|gelangt)",
        ),
    ),
    "fr": (
        r"chaîne de (pensée|raisonnement)|chaine de (pensee|pensée|raisonnement)",
        r"raisonnement (derrière|derriere|complet|détaillé|detaille)",
        _near(
            r"montre|montrez|explique|expliquez|écris|écrivez|ecris|ecrivez|détaille|détaillez",
            r"(ton|votre|le|tout ton|tout votre) raisonnement",
            20,
        ),
        _either(
            _STEPWISE["fr"],
            r"raisonne|raisonnez|raisonnant|réfléchis|réfléchissez|reflechis|résous|résolvez|"
            r"resous|déduis|déduisez|justifie",
        ),
        r"(pense|pensez|réfléchis|réfléchissez|raisonne|raisonnez) à voix haute",
        _near(
            r"comment|pourquoi",
            r"(arrive|arrives|arrivé|arrivée|obtient|obtenu|aboutit|abouti)\w*"
            + _GAP
            + r"{0,10}(cette|ce) (réponse|reponse|résultat|resultat|conclusion)",
        ),
    ),
    "ja": (
        "思考の連鎖|思考連鎖|チェーン・?オブ・?ソート",
        "推論(?:の)?(?:過程|プロセス|の流れ|手順)|思考(?:の)?(?:過程|プロセス|の流れ)",
        "解答の過程|解く過程|途中式|導出過程|考え方の筋道",
        _near(_STEPWISE["ja"], "考え|推論|解い|解き|解く|導い|導き|論証|思考", 12),
        _near("なぜ|どうして|どのように|どうやって", "(?:この|その)(?:答え|回答|解答|結論)", 20),
        "(?:この|その)(?:答え|回答|解答|結論)(?:に|へ)(?:至|たどり着|辿り着)",
        "声に出して考え",
    ),
    "ko": (
        "생각의 사슬|사고의 사슬|사고 사슬|추론 사슬",
        "추론 ?과정|사고 ?과정|생각 ?과정|풀이 ?과정|추론의 근거",
        _near(_STEPWISE["ko"], "추론|생각|사고|풀어|풀이|증명|도출|유도|논증", 15),
        _near("어떻게|왜", "(?:이|그) (?:답|정답|결론|답변)(?:이|에|을|으로|까지)", 20),
        "소리 내어 생각",
    ),
    "ar": tuple(
        _arabic(fragment)
        for fragment in (
            "سلسل(?:ة) (?:الافكار|التفكير|الاستدلال)",
            "(?:طريق(?:ة)|عملي(?:ة)|خطوات) (?:التفكير|الاستدلال|الاستنتاج)",
            _either(_STEPWISE["ar"], "فكر|استدل|استنتج|برهن|علل|حلل"),
            "(?:وراء|خلف) (?:هذه|هذا) ال(?:اجاب(?:ة)|جواب|نتيج(?:ة)|استنتاج)",
            _near("اعرض|اكتب|اشرح|وضح|بين", "تفكيرك|استدلالك|خطوات الحل|طريق(?:ة) تفكيرك", 20),
            "فكر بصوت عال",
            _near(
                "كيف",
                "(?:وصلت|توصلت|نصل|وصلنا|يتم الوصول) (?:الى|ل) (?:هذه|"
                "هذا) ال(?:اجاب(?:ة)|جواب|نتيج(?:ة))",
                10,
            ),
        )
    ),
    "hi": tuple(
        _devanagari(fragment)
        for fragment in (
            "तर्क (?:की )?(?:प्रक्रिया|श्रृंखला|शृंखला)|विचार (?:श्रृंखला|प्रक्रिया)|सोचने की प्रक्रिया",
            "चेन ऑफ थॉट",
            _either(_STEPWISE["hi"], "सोच|तर्क|हल कर|हल की|सिद्ध कर|निष्कर्ष", 30),
            "(?:इस|यह|इसी) (?:उत्तर|जवाब|नतीजे|निष्कर्ष)" + _GAP + "{0,12}(?:तक कैसे|के पीछे|पर कैसे)",
            "(?:अपना|अपने|पूरा|पूरे) तर्क",
            "जोर से सोच",
            "हल करने के (?:सभी |सारे )?(?:चरण|स्टेप)",
        )
    ),
}

# --- rubric_grading: score an answer against a rubric or criteria ---------------------

RUBRIC_GRADING: dict[str, tuple[str, ...]] = {
    "en": (
        r"\brubric\b",
        r"grade (?:the|this) (?:response|answer)",
        r"score (?:the|this) (?:response|answer)",
        r"rate (?:the|this) (?:response|answer)",
        r"on a scale (?:of|from) \d+ to \d+",
        r"which (?:response|answer) is better",
    ),
    "zh": (
        "评分标准|評分標準|评分细则|評分細則|评分量表|评分规则|評分規則|打分标准|打分標準",
        "评价标准|評價標準|评估标准|評估標準|评判标准|評判標準",
        _near(
            "回答|答案|回复|回覆|作答|答复|答覆|输出|輸出",
            "打分|评分|評分|打个分|打個分|评级|評級|评估|評估|评价|評價|评判|評判",
            12,
        ),
        _near(
            "按照|根据|根據|依据|依據|基于|基於|对照|對照",
            "(?:标准|標準|准则|準則|细则|細則|量表)"
            + _GAP
            + "{0,20}(?:打分|评分|評分|评估|評估|评价|評價)",
            15,
        ),
        r"\d+\s*(?:到|至|-|～|~|—)\s*\d+\s*分(?![钟鐘之])",
        r"\d+\s*分制|满分\s*\d+\s*分|滿分\s*\d+\s*分",
        "哪个回答更好|哪個回答更好|哪个答案更好|哪個答案更好|哪一个回答更好",
    ),
    "ru": (
        _either(r"оцени|оцените|оценить|оценку|оценка", r"по критери|по шкале|по рубрик|балл", 40),
        r"оцени(те)? (этот |данный |следующий |каждый )?ответ|оценк\w* (качества )?ответ",
        r"(поставь|поставьте|выставь|выставьте) (оценку|балл|баллы)",
        r"по шкале от \d+ до \d+|от \d+ до \d+ балл|\d+-?балльн",
        r"рубрик\w* оценивания|критери\w* оценивания",
        r"какой (из )?(ответов |ответ )?(лучше|точнее)",
    ),
    "es": (
        r"(la|esta|una|siguiente) r[úu]brica|r[úu]brica de (evaluaci[óo]n|calificaci[óo]n)",
        _near(
            r"califica|calificar|evalúa|evalua|evaluar|puntúa|puntua|puntuar|valora|valorar",
            r"(la|esta|esa|cada|las|estas|siguiente) respuestas?",
            20,
        ),
        r"criterios de (evaluación|evaluacion|calificación|calificacion|puntuación|puntuacion)",
        r"(asigna|asígnale|asignale|dale|otorga|pon) (una )?"
        r"(puntuación|puntuacion|calificación|calificacion|nota) (de|del|entre) \d",
        r"(escala|puntuación|puntuacion|nota|calificación|calificacion) (de|del|entre) \d+ "
        r"(a|al|y) \d+",
        r"(cuál|cual|qué|que) (de las )?respuestas? es (la )?mejor",
    ),
    "pt": (
        r"rubrica de (avaliação|avaliacao|correção|correcao|pontuação|pontuacao)",
        r"(segundo|conforme|de acordo com|usando|com base n)[ao]? (a |esta )?rubrica",
        _near(
            r"avalie|avaliar|avalia|pontue|pontuar|classifique|dê uma nota|de uma nota",
            r"(a|esta|essa|cada|as|estas|essas|seguinte) respostas?",
            20,
        ),
        r"critérios de (avaliação|correção|pontuação)|criterios de (avaliacao|correcao)",
        r"(atribua|dê|atribuir|dar) (uma )?(nota|pontuação|pontuacao) (de|entre) \d",
        r"(escala|nota|pontuação|pontuacao) (de|entre) \d+ (a|e) \d+",
        r"qual (das )?respostas? (é|e) (a )?melhor",
    ),
    "de": (
        r"bewertungsraster|bewertungsschema|bewertungskriterien|bewertungsmatrix|benotungsschema",
        _either(r"bewerte|bewerten|benote|benoten|beurteile|beurteilen", r"antwort", 30),
        _either(r"kriterien|raster|maßstäbe", r"bewert|benot|punktzahl|punkte vergeb|note", 40),
        r"(skala|punkten|note) (von|zwischen) \d+ (bis|und) \d+",
        r"(vergib|vergebe|vergeben) (eine |die )?(punktzahl|note|punkte)",
        r"welche (der )?antworte?n? ist (die )?bessere?",
    ),
    "fr": (
        r"grille (d'|d’|de )(évaluation|evaluation|notation|correction)",
        r"barème (de notation|de correction|d'évaluation|d’évaluation)|"
        r"(selon|d'après) (le|ce) barème",
        _near(
            r"note|notez|évalue|évaluez|evalue|evaluez|juge|jugez",
            r"(la|cette|chaque|les|ces) (réponse|reponse)s?",
            20,
        ),
        r"critères (d'|d’|de )(évaluation|evaluation|notation|correction)",
        r"(note|score) (de \d|entre \d|sur \d)",
        r"(notation|échelle|echelle) (de|entre) \d+ (à|a|et) \d+",
        r"quelle (des )?(réponse|reponse)s? est (la )?meilleure",
    ),
    "ja": (
        "採点|評価基準|採点基準|ルーブリック|評価ルーブリック",
        _near("回答|答え|解答|応答|出力", "(?:を|の)?(?:評価|採点|点数|スコア)", 12),
        r"\d+\s*点満点|\d+\s*段階(?:で|の)?評価",
        "スコア(?:を|で)?(?:付け|つけ|算出)|点数を(?:付け|つけ)",
        "どちらの(?:回答|答え|応答)(?:が|の方が)",
    ),
    "ko": (
        "채점|평가 ?기준|채점 ?기준|루브릭",
        _near("답변|답안|응답|대답", "평가|점수", 20),
        "점수를 (?:매겨|매기|부여|주세요|줘)",
        r"\d+\s*점\s*만점|\d+\s*점\s*척도|\d+\s*점?\s*(?:에서|부터|~|-)\s*\d+\s*점",
        "어느 (?:답변|응답)이 더|어떤 (?:답변|응답)이 더 (?:나은|좋은|낫)",
    ),
    "ar": tuple(
        _arabic(fragment)
        for fragment in (
            "معايير (?:التقييم|التصحيح|التقدير)|سلم (?:التقييم|التصحيح|التنقيط)|مقياس التقييم",
            "روبريك",
            _near("قيم|صحح|قدر", "(?:ال)?(?:اجاب(?:ة)|اجابات|جواب|ردود)", 15),
            _near("اعط|امنح", "درج(?:ة)|علام(?:ة)|تقييما|نقاط", 10),
            _near("درج(?:ة)|علام(?:ة)|تقييم|مقياس|قيم", r"من \d+ (?:الى|ل) \d+", 30),
            "اي ال(?:اجابتين|ردين|جوابين|اجابات) افضل",
        )
    ),
    "hi": tuple(
        _devanagari(fragment)
        for fragment in (
            _either("उत्तर|जवाब|प्रतिक्रिया", "मूल्यांकन|आकलन|ग्रेड|अंक दे|अंक दी|स्कोर", 20),
            "(?:मूल्यांकन|ग्रेडिंग|अंकन) (?:के )?(?:मानदंड|मापदंड)|रूब्रिक|रुब्रिक",
            _near("मानदंड|मापदंड", "अंक|स्कोर|मूल्यांकन|ग्रेड", 30),
            r"\d+ (?:से|-) \d+ (?:के पैमाने|तक के पैमाने|के बीच)",
            "(?:अंक|स्कोर|ग्रेड) (?:दीजिए|दीजिये|दें|दो)",
            "कौन सा (?:उत्तर|जवाब) (?:बेहतर|अच्छा) है",
        )
    ),
}

# --- code: write, fix or refactor code, functions, tests ------------------------------

# Programming languages by name, for "write it in Python" in any language.
_PROGRAMMING_NAMES = (
    "python", "javascript", "typescript", "java", "c++", "c#", "golang", "rust", "kotlin",
    "swift", "php", "sql", "bash",
)  # fmt: skip
_PROGRAMMING = "|".join(re.escape(name) for name in _PROGRAMMING_NAMES)


def _after_programming(tail: str) -> str:
    """``tail`` right after a programming language's name (and an optional space), for
    languages whose request follows the name ("Pythonで", "python में"): the fragment
    starts in the script of its language (see ``_STARTS``)."""
    behind = "|".join(
        f"(?<={re.escape(name)}{space})" for name in _PROGRAMMING_NAMES for space in ("", " ")
    )
    # One cheap test of the character before, then the names.
    return f"(?:(?<=[a-z+#])|(?<=[a-z+#] ))(?:{behind})(?:{tail})"


CODE: dict[str, tuple[str, ...]] = {
    "en": (
        r"```",
        r"\bdef \w+\(",
        r"\bclass \w+[:(]",
        r"\bfunction \w+\(",
        r"#include\b",
        r"\bimport \w+",
        r"\b(?:refactor|debug|unit tests?|stack trace|compile error|pull request)\b",
    ),
    "zh": (
        "代码|代碼|源码|源碼|编程|編程|单元测试|單元測試|测试用例|測試用例|重构|重構",
        "写一个函数|寫一個函數|写个函数|寫個函數|编写函数|編寫函數|实现一个函数|實現一個函數",
        _near("修复|修復|修改|改一下|调试|調試", "bug|程序|程式", 10),
        _near("用|使用", rf"(?:{_PROGRAMMING})\s*(?:写|寫|实现|實現|编写|編寫)", 2),
    ),
    "ru": (
        _near(
            r"напиши|напишите|написать|исправь|исправьте|перепиши|перепишите|оптимизируй|отладь",
            r"код(а|у|ом|е)?\b|функци",
            25,
        ),
        r"рефакторинг|отрефактор\w*|юнит-тест\w*|модульн\w* тест\w*|отладк\w* код",
        r"стектрейс|трассировк\w* стека|ошибк\w* компиляции|пулл?-реквест",
        rf"(на|на языке) ({_PROGRAMMING}|питоне|джаве)\b",
    ),
    "es": (
        _near(
            r"escribe|escribir|escríbeme|escribeme|crea|implementa|implementar|corrige|arregla|"
            r"refactoriza|depura|optimiza",
            r"(el|un|este|mi) (código|codigo)|función (en|que)|funcion (en|que)|script en|"
            r"pruebas unitarias",
            25,
        ),
        r"pruebas? unitarias?|refactorizar|"
        r"refactorización|refactorizacion|depurar (el|este) código",
        r"error de compilación|error de compilacion|traza de (la )?pila",
    ),
    "pt": (
        _near(
            r"escreva|escreve|escrever|crie|implemente|corrija|conserte|refatore|depure|otimize",
            r"(o|um|este|esse|meu) (código|codigo)|função (em|que)|funcao (em|que)|script em|"
            r"testes unitários",
            25,
        ),
        r"testes? unitários?|testes? unitarios?|"
        r"testes? de unidade|refatorar|refatoração|refatoracao",
        r"erro de compilação|erro de compilacao|pilha de chamadas",
    ),
    "de": (
        _near(
            r"schreib|schreibe|programmier|implementier|korrigier|refaktorier|optimier|debugge\b",
            r"code|funktion|skript|unit-?tests?",
            25,
        ),
        r"refaktorier\w*|refaktorisier\w*|quellcode|programmcode|kompilierfehler|compilerfehler",
        r"unit-?tests? (schreiben|für)|debuggen\b",
    ),
    "fr": (
        _near(
            r"écris|écrivez|ecris|ecrivez|écrire|implémente|implémentez|implemente|corrige|"
            r"corrigez|refactorise|refactorisez|débogue|déboguez|debogue",
            r"(le|du|un|ce) code|(une|la|cette|ma) fonction (qui|en|python|pour)|script en|"
            r"tests unitaires",
            25,
        ),
        r"tests? unitaires?|refactoriser|refactorisez|"
        r"refactorisation|déboguer|débogage|deboguer|erreur de compilation",
        r"(le|du|ton|votre|mon|ce) code source|le code suivant|pile d'appels|pile d’appels",
    ),
    "ja": (
        "コード(?:を|の)?(?:書|修正|直|リファクタ|レビュー|実装|デバッグ)",
        "(?:関数|メソッド|クラス)を(?:書|作|実装|修正|定義)",
        "リファクタリング|ユニットテスト|単体テスト|デバッグ|コンパイルエラー|スタックトレース",
        "プルリクエスト|ソースコード",
        _after_programming("(?:で|の)?\\s*(?:コード|関数|スクリプト|実装|書い)"),
        "シェル\\s*スクリプト(?:を|で)",
    ),
    "ko": (
        "코드(?:를|좀)?\\s*(?:작성|수정|고쳐|리팩터|리팩토|짜|디버그|리뷰)",
        "함수(?:를)?\\s*(?:작성|만들|구현|짜)",
        "리팩터링|리팩토링|단위 ?테스트|유닛 ?테스트|디버깅|컴파일 (?:에러|오류)|스택 트레이스",
        "풀 ?리퀘스트|소스 ?코드",
        "(?:파이썬|자바스크립트)\\s*(?:으로|로)?\\s*(?:코드|함수|스크립트)",
        _after_programming("(?:으로|로)?\\s*(?:코드|함수|스크립트)"),
    ),
    "ar": tuple(
        _arabic(fragment)
        for fragment in (
            _near(
                "اكتب|صحح|اصلح|عدل|حسن|نفذ|برمج",
                "كود|الكود|شيف(?:ر)(?:ة)|شفر(?:ة)|دال(?:ة) برمجي(?:ة)|"
                "الدال(?:ة)|سكربت|سكريبت|اختبارات الوحد(?:ة)",
                20,
            ),
            "اعاد(?:ة) هيكل(?:ة) الكود|اختبار(?:ات)? الوحد(?:ة)|خطا برمجي|اخطاء برمجي(?:ة)",
            rf"بلغ(?:ة) (?:بايثون|جافا|{_PROGRAMMING})",
        )
    ),
    "hi": tuple(
        _devanagari(fragment)
        for fragment in (
            _near("(?<!पिन )कोड", "लिख|ठीक|सुधार|डिबग|रिफैक्टर|रीफैक्टर|ऑप्टिमाइज", 15),
            _near("फंक्शन|स्क्रिप्ट|यूनिट टेस्ट", "लिख|बना|ठीक", 15),
            "डिबग|रिफैक्टर|रीफैक्टर|यूनिट टेस्ट|कंपाइल एरर|कम्पाइल एरर",
            "(?:पायथन|जावास्क्रिप्ट) (?:में|का|कोड)",
            _after_programming("में|का|कोड"),
        )
    ),
}

# --- rewrite: a politically sensitive or censored question, made safe to answer -------

_GERMAN_DELICATE = (
    r"neutral|unbedenklich|unverfänglich|sensib(el|le)|heikl|politisch|zensur|zensier|"
    r"brisant|sicher beantwort"
)

REWRITE: dict[str, tuple[str, ...]] = {
    "en": (r"\b(?:rewrite|rephrase|paraphrase)\b.*\b(?:safe|neutral|sensitive|politically)\b",),
    "zh": (
        _nearby(
            "改写|改寫|重写|重寫|改述|换个说法|換個說法|重新表述|重新措辞|重新措辭|换一种说法|換一種說法",
            "敏感|中立|中性|政治|审查|審查|合规|合規|和谐|和諧|屏蔽|安全地回答|安全回答",
        ),
    ),
    "ru": (
        _nearby(
            r"перепиши|перепишите|переписать|переформулируй|переформулируйте|переформулировать|"
            r"перефразируй|перефразируйте|перефразировать",
            r"нейтральн|безопасн(о|ым|ой|ую|ее|ая|ый)\b|чувствительн|щекотлив|политическ|"
            r"политически|цензур|деликатн",
        ),
    ),
    "es": (
        _nearby(
            r"reescribe|reescribir|reescríbe|reformula\b|reformular\b|reformúla|parafrasea|"
            r"vuelve a redactar|redacta de nuevo",
            r"neutral|neutra\b|sensible|delicad[ao]|polític|politic|polémic|polemic|censur|"
            r"de forma segura|de manera segura",
        ),
    ),
    "pt": (
        _nearby(
            r"reescreva|reescreve|reescrever|reformule|reformula\b|reformular\b|parafraseie|"
            r"parafrasear",
            r"neutr[ao]|neutralidade|sensível|sensivel|delicad[ao]|polític|politic|polêmic|"
            r"censur|de forma segura|de maneira segura|com segurança",
        ),
    ),
    "de": (
        _nearby(
            r"umschreiben|umformulier\w*|neu formulier\w*|paraphrasier\w*|"
            r"(formulier|schreib)\w* .{0,60}\bum\b",
            _GERMAN_DELICATE,
        ),
        # The separable verb around its object: "formuliere die heikle Frage neutral um".
        rf"(formulier|schreib)\w* .{{0,80}}({_GERMAN_DELICATE}).{{0,80}}\bum\b",
    ),
    "fr": (
        _nearby(
            r"réécris|réécrivez|réécrire|reecris|reécris|reformule\b|reformulez\b|reformuler\b",
            r"neutre|neutralité|sensible|délicat|delicat|politique|censur|sans risque|"
            r"de façon sûre|de manière sûre",
        ),
    ),
    "ja": (
        _nearby(
            "書き直|書き換え|言い換え|リライト|表現を変え|言い直",
            "中立|ニュートラル|政治|センシティブ|敏感|検閲|安全に(?:回答|答え)",
        ),
    ),
    "ko": (
        _nearby(
            "다시 써|다시 작성|바꿔 써|바꿔 말|재작성|고쳐 써|재구성|순화|다른 표현으로",
            "중립|민감|정치|검열|안전하게|안전한 방식",
        ),
    ),
    "ar": (
        _arabic(
            _nearby(
                "اعد صياغ(?:ة)|اعاد(?:ة) صياغ(?:ة)|اعد كتاب(?:ة)|اعاد(?:ة) كتاب(?:ة)|صغ",
                "محايد|حيادي|بحياد|حساس|سياسي|الرقاب(?:ة)|"
                "رقاب(?:ة)|بشكل امن|بطريق(?:ة) امن(?:ة)|بامان",
            )
        ),
    ),
    "hi": (
        _devanagari(
            _nearby(
                "फिर से लिख|दोबारा लिख|दुबारा लिख|पुनः लिख|पुनर्लेखन|बदलकर लिख|रीराइट|दूसरे शब्दों में",
                "तटस्थ|निष्पक्ष|संवेदनशील|राजनीतिक|राजनैतिक|सेंसर|सुरक्षित (?:तरीके|ढंग|रूप)",
            )
        ),
    ),
}

# --- computer_use: operate a browser or desktop, click, fill in forms, screenshots ----

COMPUTER_USE: dict[str, tuple[str, ...]] = {
    "en": (r"\b(?:screenshot|click (?:on|the)|mouse|browser tab|desktop)\b",),
    "zh": (
        "截屏|截取屏幕|截个图|截個圖|截一张图|截一張圖|截一下屏",
        "打开浏览器|打開瀏覽器|在浏览器(?:中|里)|在瀏覽器(?:中|裡)|浏览器标签|瀏覽器標籤|切换标签页",
        "操作(?:电脑|電腦|桌面|浏览器|瀏覽器|鼠标|滑鼠)|控制(?:鼠标|滑鼠|浏览器|瀏覽器|电脑|電腦)",
        "移动鼠标|移動滑鼠|鼠标移到|鼠标点击|鼠標點擊|滑鼠點擊|双击桌面|雙擊桌面",
        "填写(?:网页)?表单|填寫(?:網頁)?表單",
        "(?:点击|點擊|单击|單擊)(?:页面|頁面|网页|網頁|屏幕|螢幕)(?:上|中)",
    ),
    "ru": (
        r"(сделай|сделайте|сними|снимите) (снимок экрана|скриншот)",
        r"(открой|откройте) (браузер|новую вкладку|вкладку)|"
        r"в браузере (открой|перейди|нажми|зайди)",
        _near(
            r"нажми|нажмите|кликни|кликните|щёлкни|щелкни|щёлкните|щелкните",
            r"кнопк|ссылк|иконк|значок|по ",
            20,
        ),
        r"заполни(те)? (веб-форму|форму на сайте|форму на странице|поля формы)",
        r"(наведи|переместите?|подведи|двигай) (мышь|мышку|курсор)|управля\w* (браузером|мышью)",
    ),
    "es": (
        _near(r"haz|toma|tomar|hacer|realiza", r"captura de pantalla", 6),
        r"(abre|abrir|abra) (el )?navegador|en el navegador,? (abre|ve a|haz clic|entra)",
        r"(haz clic|da clic|pulsa|cliquea|clica) (en|sobre) (el |la )?"
        r"(botón|boton|enlace|icono|vínculo|campo)",
        r"formulario (web|de la página|de la pagina|en la página|del sitio)",
        r"(mueve|mover) el (ratón|raton|mouse|cursor)|(controla|maneja) el (navegador|escritorio)",
    ),
    "pt": (
        _near(r"tire|tira|faça|faz|capture", r"captura de tela|print da tela", 6),
        r"(abra|abre|abrir) o navegador|no navegador,? (abra|vá|va|clique|acesse)",
        r"(clique|clica|clicar) (em|no|na|sobre) (o |a )?(botão|botao|link|ícone|icone|campo)",
        r"(preencha|preenche|preencher) o formulário (web|da página|do site|no site)",
        r"(mova|mover) o (mouse|cursor)|(controle|controla) o (navegador|mouse)",
    ),
    "de": (
        _near(r"mach|mache|erstelle|erstell|nimm", r"screenshot|bildschirmfoto", 10),
        r"öffne (den |einen |einen neuen )?browser|im browser (öffnen|öffne|gehe|klicke)",
        r"(?<!ich )(klick|klicke|klicken sie) (auf|in) (den|die|das) "
        r"(button|schaltfläche|link|knopf|symbol|feld)",
        r"webformular|online-formular|formular auf der (webseite|seite)",
        r"(bewege|beweg) (die maus|den mauszeiger|den cursor)|steuere? (den browser|die maus)",
    ),
    "fr": (
        r"(fais|faites|prends|prenez|effectue) (une )?capture (d'|d’)écran",
        r"(ouvre|ouvrez) (le )?navigateur|dans le navigateur,? (ouvre|va|clique)",
        r"(?<!je )(clique|cliquez) sur (le |la |l'|l’)?(bouton|lien|icône|icone|champ)",
        r"(remplis|remplissez) le formulaire (web|du site|de la page|en ligne)",
        r"(déplace|déplacez|bouge) (la souris|le curseur)|contrôle (le navigateur|la souris)",
    ),
    "ja": (
        "(?:スクリーンショット|スクショ)を(?:撮|取|とっ|とる|とり)|画面をキャプチャ",
        "ブラウザ(?:を|で)(?:開|操作|起動)",
        "(?:ボタン|リンク|アイコン)を(?:クリック|ダブルクリック|押)して(?:ください|下さい|くれ)?(?!も)",
        "フォームに(?:入力|記入)",
        "マウス(?:を|で)(?:動か|操作|移動)|カーソルを(?:移動|動か)|(?:パソコン|pc|デスクトップ)を操作",
    ),
    "ko": (
        "스크린샷(?:을)? ?(?:찍|캡처)|화면(?:을)? ?캡처",
        "(?:브라우저|크롬)(?:를|을|에서)? ?(?:열|실행|조작)",
        "(?:버튼|링크|아이콘)(?:을|를) ?(?:클릭|눌러)(?:해|하고|해서|하세요|주세요|줘)",
        "마우스(?:를|로) ?(?:움직|이동|클릭|조작)|커서를 ?(?:이동|움직)",
        "(?:웹 ?양식|폼)(?:을|에) ?(?:작성|입력|채워)|데스크톱(?:을|에서) ?(?:조작|열)",
    ),
    "ar": tuple(
        _arabic(fragment)
        for fragment in (
            "(?:خذ|التقط|التقاط) (?:لقط(?:ة) شاش(?:ة)|صور(?:ة) للشاش(?:ة)|لقط(?:ة) للشاش(?:ة))",
            "افتح (?:ال)?متصفح",
            "(?:انقر|اضغط) (?:على|علي) (?:زر|الزر|الرابط|رابط|ايقون(?:ة)|الايقون(?:ة))",
            _near("املا|عبئ|اكمل", "النموذج|الاستمار(?:ة)", 10)
            + _GAP
            + "{0,20}(?:الموقع|الصفح(?:ة)|الويب)",
            "(?:حرك|تحريك) (?:الماوس|المؤشر|الفار(?:ة))",
        )
    ),
    "hi": tuple(
        _devanagari(fragment)
        for fragment in (
            "स्क्रीन ?शॉट (?:लो|लीजिए|लीजिये|लें|लेकर|ले लो)",
            "ब्राउजर (?:खोल|में खोल|में जा)",
            "(?:बटन|लिंक|आइकन) पर (?:क्लिक|टैप) (?:करो|करें|कीजिए|कीजिये|करके|करना)",
            _near("वेबसाइट|साइट|पेज|ब्राउजर", "फॉर्म (?:भरो|भरें|भरिए|भर दो)", 20),
            "माउस (?:को )?(?:हिला|ले जा|घुमा|चला)|कर्सर (?:को )?(?:ले जा|हिला)",
        )
    ),
}

# The flags, in the order ``content_flags_from_text`` reports them.
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cot_elicitation": COT_ELICITATION,
    "rubric_grading": RUBRIC_GRADING,
    "code": CODE,
    "rewrite": REWRITE,
    "computer_use": COMPUTER_USE,
}

# Where the fragments of a group of languages can start: the characters their first
# match can begin with, and for Latin and Cyrillic, the start of a word. One lookahead,
# tried once per position, stands in for every fragment of the group; a second one
# stands in for all groups outside Latin script, so that English text pays for two
# lookaheads per position besides its own rules. Chinese, Japanese, Korean and Hindi
# fragments may start with a number ("1到10分"). English has no group: its rules stay
# exactly as they were.
_LATIN_GROUP = ("es", "pt", "de", "fr")
_GROUPS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (_LATIN_GROUP, r"(?<!\w)", "a-zà-ÿ"),
    (("ru",), r"(?<!\w)", "а-яё"),
    (("zh", "ja"), "", r"\d\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"),
    (("ko",), "", r"\d\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),
    (("ar",), "", r"\u0600-\u06ff"),
    (("hi",), "", r"\d\u0900-\u097f"),
)


def _top_level(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|`` (outside groups, classes and escapes)."""
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


_LEADING_GROUP = re.compile(r"\((?:\?:)?(?!\?)([^()\[\]\\]*)\)(?![?*+{])")


def _spread(fragment: str) -> list[str]:
    """The fragment as alternatives that each start with their own first word:
    ``(la|esta) rúbrica`` becomes ``la rúbrica|esta rúbrica``. Matches are the same;
    the engine then rejects an alternative by its first character without entering a
    group, which is most of the cost of a long pattern."""
    out = []
    for alternative in _top_level(fragment):
        lead = _LEADING_GROUP.match(alternative)
        if lead is None:
            out.append(alternative)
            continue
        rest = alternative[lead.end() :]
        out.extend(word + rest for word in lead.group(1).split("|"))
    return out


def _by_first_character(alternatives: list[str]) -> str:
    """The alternatives joined with ``|``, those that start with the same plain
    character behind that character once (``ab|ac|d`` becomes ``a(?:b|c)|d``): the
    engine rejects a branch by its first character, so a position then costs one
    comparison per distinct first character rather than one per alternative."""
    by_first: dict[str, list[str]] = {}
    others = []
    for alternative in alternatives:
        first, after = alternative[:1], alternative[1:2]
        if first and first not in "\\()[].^$|?*+{}" and after not in ("?", "*", "+", "{"):
            by_first.setdefault(first, []).append(alternative[1:])
        else:
            others.append(alternative)
    factored = [
        first + (tails[0] if len(tails) == 1 else f"(?:{'|'.join(tails)})")
        for first, tails in by_first.items()
    ]
    return "|".join(factored + others)


def compile_rule(by_language: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    """One pattern for all the fragments of one flag, to search in lower-cased text.

    Fragments are written in lower case and the text is lowered once per call rather
    than matched with ``re.IGNORECASE``: a branch that starts with a plain character is
    then skipped in one comparison. ``.`` crosses lines (the English rewrite rule and
    ``_nearby`` rely on it).
    """
    english = [part for fragment in by_language.get("en", ()) for part in _spread(fragment)]
    latin, other, other_starts = [], [], []
    for languages, behind, starts in _GROUPS:
        fragments = [
            part
            for language in languages
            for fragment in by_language.get(language, ())
            for part in _spread(fragment)
        ]
        if not fragments:
            continue
        branch = f"{behind}(?=[{starts}])(?:{_by_first_character(fragments)})"
        if languages == _LATIN_GROUP:
            latin.append(branch)
        else:
            other.append(branch)
            other_starts.append(starts)
    if other:
        latin.append(f"(?=[{''.join(other_starts)}])(?:{'|'.join(other)})")
    branches = [_by_first_character(english)] if english else []
    return re.compile("|".join([*branches, *latin]), re.DOTALL)


TEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (flag, compile_rule(by_language)) for flag, by_language in PHRASES.items()
)


def flags_in(text: str) -> list[str]:
    """The flags whose rule matches ``text``, in rule order."""
    lowered = text.lower()
    return [flag for flag, pattern in TEXT_RULES if pattern.search(lowered)]
