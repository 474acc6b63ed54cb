"""The text classifier reads campaigns in every language it lists, and honest prompts
in those languages raise nothing."""

from __future__ import annotations

import re

import pytest

from detector.features.capability import content_flags_from_text
from detector.features.text_flags import LANGUAGES, PHRASES, compile_rule

# Two or more prompts per (language, flag), as people write them.
POSITIVE: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "cot_elicitation"): (
        "Here is the answer: 17. Write out the full reasoning that leads to it.",
        "Show your work, step-by-step, for this integral.",
    ),
    ("en", "rubric_grading"): (
        "Using the rubric below, grade this answer from 1 to 5.",
        "Which answer is better for a beginner, A or B?",
    ),
    ("en", "code"): (
        "Can you refactor my parser? It has grown too long.",
        "```python\nprint(1)\n``` why does this fail?",
    ),
    ("en", "rewrite"): (
        "Rephrase the following so that it reads as politically neutral: 'What happened in 1989?'",
        "Please rewrite this question to be safe to answer.",
    ),
    ("en", "computer_use"): (
        "Take a screenshot of the page, then click on the Submit button.",
        "Move the mouse to the top-left corner of the desktop.",
    ),
    ("zh", "cot_elicitation"): (
        "已知答案是42，请一步一步地推理出这个答案是怎么得到的。",
        "下面这道题的答案是 B。请写出完整的推理过程，每一步都要说明理由。",
        "請逐步推導，並解釋為什麼會得出這個結論？",
    ),
    ("zh", "rubric_grading"): (
        "请根据以下评分标准，对这个回答进行打分（1～10分）。",
        "这是学生的作答：……请给这个回答打个分，满分10分。",
        "對照評分標準，評估下面的回覆。",
    ),
    ("zh", "code"): (
        "用Python写一个函数，读取CSV文件并返回前十行。",
        "帮我重构一下这段代码，太乱了。",
        "請幫我寫一個函數，判斷一個數是不是質數。",
    ),
    ("zh", "rewrite"): (
        "请把下面这个政治敏感的问题改写成中立的表述：",
        "把这个问题换个说法，让它不会被审查屏蔽。",
    ),
    ("zh", "computer_use"): (
        "打开浏览器，进入登录页面，然后填写表单并提交。",
        "请截屏，然后把鼠标移到右上角的关闭按钮。",
    ),
    ("ru", "cot_elicitation"): (
        "Ответ: 12. Объясни пошагово, как рассуждать, чтобы прийти к нему.",
        "Распиши ход рассуждений подробно, шаг за шагом.",
        "Почему верный ответ именно такой? Покажи свои рассуждения.",
    ),
    ("ru", "rubric_grading"): (
        "Оцените ответ студента по критериям ниже и поставьте балл от 1 до 10.",
        "Поставь оценку этому ответу по 5-балльной шкале.",
    ),
    ("ru", "code"): (
        "Напиши функцию на Python, которая сортирует список словарей по ключу.",
        "Исправь код ниже, он падает с ошибкой компиляции.",
    ),
    ("ru", "rewrite"): (
        "Перепиши этот политически острый вопрос так, чтобы он звучал нейтрально.",
        "Переформулируйте вопрос о цензуре в СМИ, чтобы на него можно было ответить.",
    ),
    ("ru", "computer_use"): (
        "Открой браузер, зайди на сайт и нажми на кнопку «Войти».",
        "Сделай скриншот экрана после загрузки страницы.",
    ),
    ("es", "cot_elicitation"): (
        "La respuesta es 7. Explica tu razonamiento completo para llegar a ella.",
        "Resuelve este problema paso a paso y justifica cada paso.",
    ),
    ("es", "rubric_grading"): (
        "Evalúa esta respuesta según la rúbrica y asigna una puntuación de 1 a 10.",
        "¿Cuál respuesta es mejor, la A o la B? Usa los criterios de evaluación.",
    ),
    ("es", "code"): (
        "Escribe una función en Python que invierta una cadena.",
        "¿Puedes corregir el código? Me da un error de compilación.",
    ),
    ("es", "rewrite"): (
        "Reescribe esta pregunta políticamente sensible para que suene neutral.",
        "Reformula la pregunta sobre la censura de forma segura.",
    ),
    ("es", "computer_use"): (
        "Abre el navegador y haz clic en el botón de inicio de sesión.",
        "Toma una captura de pantalla cuando cargue la página.",
    ),
    ("pt", "cot_elicitation"): (
        "A resposta é 9. Mostre seu raciocínio completo, passo a passo.",
        "Pense passo a passo e explique como se chega a essa resposta.",
    ),
    ("pt", "rubric_grading"): (
        "Avalie esta resposta com base na rubrica e dê uma nota de 0 a 10.",
        "Qual das respostas é melhor? Use os critérios de avaliação abaixo.",
    ),
    ("pt", "code"): (
        "Escreva uma função em Python que calcule o fatorial.",
        "Pode refatorar este código? Também preciso de testes unitários.",
    ),
    ("pt", "rewrite"): (
        "Reescreva esta pergunta politicamente sensível de forma neutra.",
        "Reformule a pergunta sobre censura para que seja respondida com segurança.",
    ),
    ("pt", "computer_use"): (
        "Abra o navegador e clique no botão Entrar.",
        "Tire uma captura de tela da página inicial.",
    ),
    ("de", "cot_elicitation"): (
        "Die Antwort ist 3. Erkläre deinen Gedankengang ausführlich.",
        "Denke Schritt für Schritt nach und begründe jeden Schritt.",
    ),
    ("de", "rubric_grading"): (
        "Bewerte die folgende Antwort anhand der Kriterien und vergib eine Punktzahl.",
        "Benote diese Antwort auf einer Skala von 1 bis 10.",
    ),
    ("de", "code"): (
        "Schreib mir eine Funktion in Python, die Primzahlen findet.",
        "Kannst du den Quellcode refaktorieren und Unit-Tests dazu schreiben?",
    ),
    ("de", "rewrite"): (
        "Formuliere diese politisch heikle Frage neutral um.",
        "Schreib die Frage zur Zensur so um, dass sie unverfänglich klingt.",
    ),
    ("de", "computer_use"): (
        "Öffne den Browser und klicke auf den Button „Anmelden“.",
        "Mach einen Screenshot von der Startseite.",
    ),
    ("fr", "cot_elicitation"): (
        "La réponse est 5. Explique ton raisonnement complet pour y arriver.",
        "Réfléchis étape par étape avant de répondre.",
    ),
    ("fr", "rubric_grading"): (
        "Évalue cette réponse selon la grille d'évaluation et donne une note sur 20.",
        "Quelle réponse est la meilleure ? Utilise les critères d'évaluation.",
    ),
    ("fr", "code"): (
        "Écris une fonction en Python qui trie une liste.",
        "Peux-tu corriger le code suivant ? J'ai une erreur de compilation.",
    ),
    ("fr", "rewrite"): (
        "Reformule cette question politiquement sensible de façon neutre.",
        "Réécris la question sur la censure pour qu'elle soit neutre.",
    ),
    ("fr", "computer_use"): (
        "Ouvre le navigateur et clique sur le bouton Connexion.",
        "Fais une capture d'écran de la page d'accueil.",
    ),
    ("ja", "cot_elicitation"): (
        "答えは42です。ステップバイステップで考えて、この答えに至る理由を説明してください。",
        "推論の過程をすべて書き出してください。",
    ),
    ("ja", "rubric_grading"): (
        "以下の評価基準に従って、この回答を採点してください（10点満点）。",
        "どちらの回答が良いですか？スコアを付けてください。",
    ),
    ("ja", "code"): (
        "Pythonでファイルを読み込む関数を書いてください。",
        "このコードをリファクタリングして、単体テストも追加してください。",
    ),
    ("ja", "rewrite"): (
        "この政治的にセンシティブな質問を中立的な表現に書き直してください。",
        "検閲に引っかからないように、質問を言い換えてください。",
    ),
    ("ja", "computer_use"): (
        "ブラウザを開いて、ログインボタンをクリックしてください。",
        "画面のスクリーンショットを撮ってください。",
    ),
    ("ko", "cot_elicitation"): (
        "정답은 42입니다. 단계별로 생각해서 이 답이 나온 과정을 설명해 주세요.",
        "추론 과정을 차근차근 보여 주세요.",
    ),
    ("ko", "rubric_grading"): (
        "다음 평가 기준에 따라 이 답변을 채점해 주세요.",
        "이 답변에 1~10점으로 점수를 매겨 주세요.",
        "당신은 엄격한 평가자입니다. 모델의 답변을 1점부터 10점까지 평가하세요.",
    ),
    ("ko", "code"): (
        "파이썬으로 리스트를 정렬하는 함수를 작성해 주세요.",
        "이 코드 좀 리팩토링해 주세요. 단위 테스트도 필요해요.",
    ),
    ("ko", "rewrite"): (
        "이 정치적으로 민감한 질문을 중립적인 표현으로 다시 써 주세요.",
        "검열에 걸리지 않도록 질문을 순화해서 바꿔 말해 줘.",
    ),
    ("ko", "computer_use"): (
        "브라우저를 열고 로그인 버튼을 클릭해 주세요.",
        "화면을 캡처한 다음 마우스를 오른쪽 위로 이동해 줘.",
    ),
    ("ar", "cot_elicitation"): (
        "الإجابة هي 12. فكّر خطوة بخطوة واشرح كيف توصلت إلى هذه النتيجة.",
        "اكتب طريقة تفكيرك كاملة قبل أن تجيب.",
    ),
    ("ar", "rubric_grading"): (
        "قيّم الإجابة التالية وفق معايير التقييم وأعطِ درجة من 1 إلى 10.",
        "أي الإجابتين أفضل؟ صحّح الإجابات حسب سلم التصحيح.",
        "أنت مقيّم صارم. قيّم إجابة النموذج من 1 إلى 10.",
    ),
    ("ar", "code"): (
        "اكتب دالة برمجية بلغة بايثون لترتيب قائمة.",
        "أصلح الكود التالي لأنه لا يعمل.",
    ),
    ("ar", "rewrite"): (
        "أعد صياغة هذا السؤال السياسي الحساس بطريقة محايدة.",
        "أعِد كتابة السؤال بحيث يتجنب الرقابة.",
    ),
    ("ar", "computer_use"): (
        "افتح المتصفح ثم انقر على زر تسجيل الدخول.",
        "التقط لقطة شاشة للصفحة الرئيسية.",
    ),
    ("hi", "cot_elicitation"): (
        "उत्तर 42 है। चरण दर चरण सोचकर बताइए कि इस उत्तर तक कैसे पहुँचे।",
        "इस सवाल को हल करने के सभी चरण लिखिए और अपना तर्क समझाइए।",
    ),
    ("hi", "rubric_grading"): (
        "नीचे दिए गए मानदंडों के आधार पर इस उत्तर का मूल्यांकन कीजिए और अंक दीजिए।",
        "कौन सा जवाब बेहतर है? 1 से 10 के पैमाने पर बताइए।",
    ),
    ("hi", "code"): (
        "पायथन में एक फ़ंक्शन लिखिए जो सूची को उलट दे।",
        "इस कोड को ठीक करो, यह चल नहीं रहा।",
    ),
    ("hi", "rewrite"): (
        "इस राजनीतिक रूप से संवेदनशील सवाल को तटस्थ तरीके से फिर से लिखिए।",
        "इस प्रश्न को दूसरे शब्दों में निष्पक्ष ढंग से लिखें।",
    ),
    ("hi", "computer_use"): (
        "ब्राउज़र खोलो और लॉगिन बटन पर क्लिक करो।",
        "होम पेज का स्क्रीनशॉट लीजिए।",
    ),
}

# Ordinary prompts: recipes, travel, customer support, translation, plain arithmetic.
NEGATIVE: dict[str, tuple[str, ...]] = {
    "en": (
        "How long should I bake banana bread at 180 degrees?",
        "What are the best things to do in Lisbon for three days?",
        "My order #4412 arrived damaged, how do I get a refund?",
        "Translate 'good morning' into Italian.",
        "What is 17 times 23?",
    ),
    "zh": (
        "红烧肉怎么做？需要哪些调料？",
        "五月去云南旅游，有什么推荐的路线？",
        "我的快递三天了还没到，怎么联系客服？",
        "请把这句话翻译成英文：今天天气很好。",
        "解方程 x²-5x+6=0。",
        "公司计划逐步增加研发投入，你怎么看？",
    ),
    "ru": (
        "Как приготовить борщ? Дай пошаговый рецепт.",
        "Куда поехать летом на Байкал и сколько это стоит?",
        "Не приходит код подтверждения на телефон, что делать?",
        "Переведи на английский: «Я люблю читать книги».",
        "Сколько будет 144 разделить на 12?",
    ),
    "es": (
        "¿Me das la receta de la paella paso a paso?",
        "¿Qué ver en Sevilla en un fin de semana?",
        "Mi código de descuento no funciona en la tienda, ¿qué hago?",
        "Traduce al inglés: «Mañana voy al mercado».",
        "¿Cuánto es 15 por 8?",
    ),
    "pt": (
        "Como fazer pão de queijo passo a passo?",
        "Quais praias visitar em Florianópolis no verão?",
        "Meu pedido não chegou, como falo com o atendimento?",
        "Traduza para o inglês: 'Eu gosto de café'.",
        "Quanto é 25 vezes 4?",
    ),
    "de": (
        "Wie backe ich einen Apfelstrudel Schritt für Schritt?",
        "Was sollte man in München an einem Wochenende unbedingt sehen?",
        "Ich habe mein Passwort vergessen, wie setze ich es zurück?",
        "Übersetze bitte ins Englische: „Ich gehe heute ins Kino.“",
        "Was ist die Wurzel aus 144?",
    ),
    "fr": (
        "Comment faire une quiche lorraine étape par étape ?",
        "Que visiter à Lyon en deux jours ?",
        "Mon code promo ne marche pas, pouvez-vous m'aider ?",
        "Traduis en anglais : « Je voudrais un café, s'il vous plaît. »",
        "Combien font 12 fois 12 ?",
        "Le prix varie en fonction de la saison.",
    ),
    "ja": (
        "肉じゃがの作り方を教えてください。",
        "京都で三日間観光するならどこがおすすめですか？",
        "注文した商品がまだ届きません。どうすればいいですか？",
        "「おはようございます」を英語に翻訳してください。",
        "12×15はいくつですか？",
        "新しい制度を段階的に導入する予定です。",
    ),
    "ko": (
        "김치찌개 맛있게 끓이는 법 알려 줘.",
        "제주도 2박 3일 여행 코스 추천해 주세요.",
        "주문한 상품이 아직 안 왔어요. 어떻게 해야 하나요?",
        "'감사합니다'를 영어로 번역해 줘.",
        "25 곱하기 4는 얼마야?",
    ),
    "ar": (
        "كيف أطبخ الكبسة باللحم؟",
        "ما أفضل الأماكن السياحية في إسطنبول؟",
        "لم يصلني الطلب بعد، كيف أتواصل مع خدمة العملاء؟",
        "ترجم هذه الجملة إلى الإنجليزية: أنا أحب القراءة.",
        "كم يساوي 15 ضرب 6؟",
    ),
    "hi": (
        "पनीर बटर मसाला कैसे बनाते हैं?",
        "गोवा में घूमने के लिए सबसे अच्छी जगहें कौन सी हैं?",
        "मेरा ऑर्डर अभी तक नहीं आया, ग्राहक सेवा से कैसे संपर्क करूँ?",
        "इसका अंग्रेज़ी में अनुवाद कीजिए: मुझे चाय पसंद है।",
        "15 गुणा 8 कितना होता है?",
    ),
}

# Prompts that mix languages: a flag is read whichever language carries it.
MIXED: tuple[tuple[str, list[str]], ...] = (
    ("Here is the answer: 7. 请一步一步推理，说明为什么。", ["cot_elicitation"]),
    (
        "Evaluate this: «ответ студента». Оцените ответ по критериям, 1–10 баллов.",
        ["rubric_grading"],
    ),
    ("用Python写一个函数 that parses JSON.", ["code"]),
    ("Bitte: 请把这个敏感问题改写得中立一些。", ["rewrite"]),
    (
        "Réfléchis étape par étape, puis 채점 기준에 따라 점수를 매겨 줘.",
        ["cot_elicitation", "rubric_grading"],
    ),
)


def _case_id(case: tuple[str, str]) -> str:
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize("case", sorted(POSITIVE), ids=_case_id)
def test_each_language_raises_each_flag(case: tuple[str, str]) -> None:
    _, flag = case
    for text in POSITIVE[case]:
        assert flag in content_flags_from_text(text), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_ordinary_prompts_raise_nothing(language: str) -> None:
    for text in NEGATIVE[language]:
        assert content_flags_from_text(text) == [], text


@pytest.mark.parametrize(("text", "flags"), MIXED, ids=[flags[-1] for _, flags in MIXED])
def test_mixed_language_prompts(text: str, flags: list[str]) -> None:
    assert content_flags_from_text(text) == flags


def test_every_language_has_a_rule_for_every_flag() -> None:
    missing = [
        f"{language}-{flag}"
        for flag, by_language in PHRASES.items()
        for language in LANGUAGES
        if not by_language.get(language)
    ]
    assert missing == []
    assert set(POSITIVE) == {(language, flag) for language in LANGUAGES for flag in PHRASES}


def test_case_and_full_width_punctuation_do_not_matter() -> None:
    assert content_flags_from_text("STEP BY STEP, please.") == ["cot_elicitation"]
    assert content_flags_from_text("ПОШАГОВО РАССУЖДАЙ.") == ["cot_elicitation"]
    assert content_flags_from_text("【评分标准】：准确性、完整性。") == ["rubric_grading"]


def test_fragments_are_lower_case() -> None:
    # The text is lowered before matching, so an upper-case letter could never match.
    for by_language in PHRASES.values():
        for fragments in by_language.values():
            for fragment in fragments:
                letters = re.sub(r"\\.", "", fragment)
                assert letters == letters.lower(), fragment


@pytest.mark.parametrize("flag", list(PHRASES))
def test_english_reads_as_english_rules_alone(flag: str) -> None:
    """The other languages' rules add nothing to English prompts."""
    english_only = compile_rule({"en": PHRASES[flag]["en"]})
    full = compile_rule(PHRASES[flag])
    texts = [text for language in ("en",) for text in NEGATIVE[language]] + [
        text for (language, _), texts in POSITIVE.items() if language == "en" for text in texts
    ]
    texts += [
        "Rewrite this email about safety training so it sounds friendlier.",
        "Reformulate the recipe so it is sensible for kids; code the steps in a list.",
        "Optimise the code, then debugger output, then mouse over the desktop icon.",
        "Como is a lake; the Lösung is elsewhere. Schreib nothing.",
    ]
    for text in texts:
        lowered = text.lower()
        assert bool(english_only.search(lowered)) == bool(full.search(lowered)), text
